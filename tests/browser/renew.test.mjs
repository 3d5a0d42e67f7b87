// Long-lived pages (README "Name expiry and renewal"): real chromium keeps
// herald.js open across three expiries of 5-second names, over WebSocket
// and over SSE at once, while messages flow every 150 ms; getName (here a
// page function backed by the test's signer, as the demo's /names route
// would be) renews each name before it expires, and not one message is
// missed, repeated or reordered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHeraldd, launchBrowser, until, sleep } from './lib.mjs';

let hd, browser;
before(async () => {
  hd = await startHeraldd({ historySize: 1000 });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await hd?.stop(); });

async function openPage(transport, channel, asked) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => asked.errors.push(String(e)));
  await page.exposeFunction('signFresh', (ch) => {
    asked.push({ ch, at: Date.now() });
    return hd.sign(ch, { expiry: Math.floor(Date.now() / 1000) + 5 });
  });
  await page.goto(`${hd.http}/healthz`);
  await page.addScriptTag({ url: `${hd.http}/herald.js` });
  await page.evaluate(({ url, transport, first, channel }) => {
    window.got = []; window.errs = []; window.gaps = [];
    window.h = Herald.connect(url, { transports: [transport], getName: (ch) => window.signFresh(ch) });
    h.on('error', (e) => errs.push(e));
    h.on('gap', (g) => gaps.push(g));
    window.subscribed = 0;
    h.on('subscribed', () => subscribed++);
    h.subscribe(first, (d, m) => got.push(m.id));
  }, { url: hd.url, transport, channel, first: hd.sign(channel, { expiry: Math.floor(Date.now() / 1000) + 5 }) });
  return page;
}

test('a_page_stays_subscribed_across_three_expiries_of_5_second_names_missing_nothing', async () => {
  const askedWs = Object.assign([], { errors: [] }), askedSse = Object.assign([], { errors: [] });
  const ws = await openPage('ws', 'renew.ws', askedWs);
  const sse = await openPage('sse', 'renew.sse', askedSse);
  await ws.waitForFunction(() => subscribed === 1);
  await sse.waitForFunction(() => subscribed === 1);
  const sent = { 'renew.ws': [], 'renew.sse': [] };
  const end = Date.now() + 16000; // three 5-second names and more
  while (Date.now() < end) {
    for (const ch of Object.keys(sent)) sent[ch].push((await hd.emit(ch, 'm' + sent[ch].length)).id);
    await sleep(150);
  }
  for (const [page, ch] of [[ws, 'renew.ws'], [sse, 'renew.sse']]) {
    await page.waitForFunction((n) => got.length >= n, sent[ch].length, { timeout: 10000 }).catch(async (e) => {
      const st = await page.evaluate(() => ({ got: got.length, errs, gaps, state: h.state }));
      throw new Error(`${ch}: sent ${sent[ch].length}, page ${JSON.stringify(st)}, asked ${askedWs.length}/${askedSse.length}\n${hd.proc.log.slice(-3000)}`);
    });
    const got = await page.evaluate(() => got);
    assert.deepEqual(got, sent[ch], `${ch}: every message once, in order`);
    assert.deepEqual(await page.evaluate(() => [errs, gaps]), [[], []], ch);
  }
  assert.ok(askedWs.length >= 3 && askedSse.length >= 3, `renewals: ws ${askedWs.length}, sse ${askedSse.length}`);
  assert.deepEqual([askedWs.errors, askedSse.errors], [[], []]);
  const st = JSON.parse((await (await import('./lib.mjs')).emitRequest(hd.emitSock, 'GET', '/stats')).body);
  assert.equal(st.subscriptions_expired, 0, 'every name was renewed before it expired');
  assert.ok(st.subscriptions_refreshed >= 3, 'WebSocket renewed in place (refresh)');
  await ws.close();
  await sse.close();
});
