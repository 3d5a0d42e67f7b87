// The demo app's renewal route (README "Name expiry and renewal"): with
// 5-second names, a logged-in page in real chromium stays subscribed past
// their expiry because herald.js's getName asks the PHP app's /names for
// fresh ones, which the session decides: another user's channel gets 403.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHeraldd, startDemo, launchBrowser, loginPage, until, sleep } from './lib.mjs';

let hd, demo, browser;
before(async () => {
  hd = await startHeraldd({ historySize: 200 });
  demo = await startDemo(hd, { env: { HERALD_DEMO_TTL: '5' } });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await demo?.stop(); await hd?.stop(); });

test('the_demo_page_outlives_its_5_second_names_through_the_names_route', async () => {
  const alice = await loginPage(browser, demo.url, 'alice');
  await alice.waitForFunction(() => window.demo.subscribed.length === 3, null, { timeout: 10000 });
  const sent = [];
  const end = Date.now() + 8000;
  for (let i = 0; Date.now() < end; i++) {
    await hd.emit(i % 2 ? 'id1' : 'user.alice', 'm' + i);
    sent.push(`${i % 2 ? 'id1' : 'user.alice'}:m${i}`);
    await sleep(250);
  }
  await alice.waitForFunction((n) => window.demo.received.length >= n, sent.length, { timeout: 10000 });
  const got = await alice.evaluate(() => window.demo.received.map((m) => `${m.channel}:${m.data}`));
  assert.deepEqual(got, sent);
  const [renewals, errors] = await alice.evaluate(() => [window.demo.renewals, window.demo.errors]);
  assert.ok(renewals >= 3, `renewals ${renewals}`);
  assert.deepEqual(errors, []);
  assert.equal(JSON.parse((await (await import('./lib.mjs')).emitRequest(hd.emitSock, 'GET', '/stats')).body).subscriptions_expired, 0);
  // the route: fresh names for what the session may read, 403 otherwise
  const [ok, other] = await alice.evaluate(async () => {
    const a = await fetch('/names?channels=id1,user.alice');
    const b = await fetch('/names?channels=user.bob');
    return [[a.status, await a.json()], [b.status, await b.text()]];
  });
  assert.equal(ok[0], 200);
  assert.deepEqual(Object.keys(ok[1]), ['id1', 'user.alice']);
  assert.match(ok[1]['user.alice'], /^user\.alice~v1\.0\.\d+\./);
  assert.equal(other[0], 403);
  assert.ok(!other[1].includes('~v1'));
  await alice.context().close();
});
