// Real chromium, real heraldd, the demo PHP app under `php -S` with the
// extension. The pages reach heraldd through a TCP proxy the tests can cut,
// as a network would, while emits continue.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHeraldd, startDemo, startProxy, launchBrowser, loginPage, received, until, sleep } from './lib.mjs';

const HISTORY = 32;
let hd, proxy, demo, browser;

before(async () => {
  hd = await startHeraldd({ historySize: HISTORY });
  proxy = await startProxy(hd.port);
  demo = await startDemo(hd, { publicUrl: proxy.url });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
  await proxy?.stop();
  await hd?.stop();
});

const subscribedTo = (page, channel, n = 1) => page.waitForFunction(([c, k]) =>
  window.demo.subscribed.filter((s) => s.channel === c).length >= k, [channel, n], { timeout: 10000 });

// Click one of the page's emit links, as a user would.
const clickEmit = (page, channel, message) =>
  page.click(`a[data-channel="${channel}"][data-message="${message}"]`);

test('two_users_both_see_a_public_message', async () => {
  const alice = await loginPage(browser, demo.url, 'alice');
  const bob = await loginPage(browser, demo.url, 'bob');
  await subscribedTo(alice, 'id1');
  await subscribedTo(bob, 'id1');
  await clickEmit(alice, 'id1', 'hello');
  for (const p of [alice, bob]) await p.waitForFunction(() => window.demo.received.some((m) => m.data === 'hello'));
  assert.deepEqual(await received(alice), ['id1:hello']);
  assert.deepEqual(await received(bob), ['id1:hello']);
  // The first message on id1 reads "#1"; its full id is on hover.
  assert.match(await alice.textContent('#log'), /id1 #1: hello/);
  const { id } = (await alice.evaluate(() => window.demo.received))[0];
  assert.equal(await alice.getAttribute('#log li', 'title'), `message id ${id}`);
  await alice.context().close();
  await bob.context().close();
});

test('only_the_owner_sees_their_private_channel', async () => {
  const alice = await loginPage(browser, demo.url, 'alice');
  const bob = await loginPage(browser, demo.url, 'bob');
  await subscribedTo(alice, 'user.alice');
  await subscribedTo(bob, 'user.bob');
  await clickEmit(alice, 'user.alice', 'a note to myself');
  await clickEmit(bob, 'user.alice', 'hi alice, from bob');
  await clickEmit(alice, 'id1', 'bye'); // a public message after both: bob must have had time to see them
  await alice.waitForFunction(() => window.demo.received.length === 3);
  await bob.waitForFunction(() => window.demo.received.some((m) => m.data === 'bye'));
  assert.deepEqual((await received(alice)).sort(), ['id1:bye', 'user.alice:a note to myself', 'user.alice:hi alice, from bob']);
  assert.deepEqual(await received(bob), ['id1:bye']);
  await alice.context().close();
  await bob.context().close();
});

test('forged_or_altered_signed_names_are_refused_and_get_no_data', async () => {
  const mallory = await loginPage(browser, demo.url, 'mallory');
  await subscribedTo(mallory, 'user.mallory');
  // Her own signature on bob's channel (the page's "try to listen" button).
  await mallory.click('#snoop');
  // An altered name: id1's signature with a later expiry, and id1's on id3.
  await mallory.evaluate(() => {
    const id1 = window.HERALD_DEMO.channels.find((c) => c.startsWith('id1~'));
    const [, kid, , mac] = id1.split('~')[1].split('.');
    window.demo.herald.subscribe(`id9~v1.${kid}.0.${mac}`, (d) => window.demo.received.push({ channel: 'id9', data: d }));
    window.demo.herald.subscribe(`id8~v1.${kid}.9999999999.${mac}`, (d) => window.demo.received.push({ channel: 'id8', data: d }));
    window.demo.herald.subscribe('nosig', (d) => window.demo.received.push({ channel: 'nosig', data: d }));
  });
  await mallory.waitForFunction(() => window.demo.errors.length >= 4, null, { timeout: 10000 });
  const errs = await mallory.evaluate(() => window.demo.errors);
  assert.deepEqual(errs.map((e) => e.channel).sort(), ['id8', 'id9', 'nosig', 'user.bob']);
  for (const e of errs) assert.ok(['forbidden', 'expired'].includes(e.code), JSON.stringify(e));
  assert.match(await mallory.textContent('#log'), /user\.bob: refused \(forbidden/);
  for (const ch of ['user.bob', 'id9', 'id8', 'nosig']) await hd.emit(ch, 'secret for ' + ch);
  await hd.emit('user.mallory', 'end');
  await mallory.waitForFunction(() => window.demo.received.some((m) => m.data === 'end'));
  assert.deepEqual(await received(mallory), ['user.mallory:end']);
  await mallory.context().close();
});

// Emit n numbered messages to channel while cutting the proxy twice; the page
// must then show each exactly once, in order.
async function cutMidStream(page, channel, n) {
  const want = Array.from({ length: n }, (_, i) => `m${i}`);
  for (let i = 0; i < n; i++) {
    await hd.emit(channel, want[i]);
    if (i === Math.floor(n / 3) || i === Math.floor((2 * n) / 3)) {
      proxy.cut();
      await sleep(5);
    }
  }
  await page.waitForFunction(([c, k]) => window.demo.received.filter((m) => m.channel === c).length >= k,
    [channel, n], { timeout: 15000 });
  await sleep(100); // a duplicate arriving late would show here
  const got = (await received(page)).filter((s) => s.startsWith(channel + ':')).map((s) => s.slice(channel.length + 1));
  assert.deepEqual(got, want);
  const ids = await page.evaluate((c) => window.demo.received.filter((m) => m.channel === c).map((m) => m.id), channel);
  for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
}

test('websocket_cut_mid_stream_resumes_every_message_once_in_order', async () => {
  const carol = await loginPage(browser, demo.url, 'carol');
  await subscribedTo(carol, 'user.carol');
  await cutMidStream(carol, 'user.carol', 24);
  const states = await carol.evaluate(() => window.demo.states);
  assert.ok(states.filter((s) => s === 'reconnecting').length >= 1, states.join());
  assert.ok((await carol.evaluate(() => window.demo.subscribed.filter((s) => s.channel === 'user.carol').length)) >= 2);
  assert.deepEqual(await carol.evaluate(() => window.demo.gaps), []);
  await carol.context().close();
});

test('sse_only_page_delivers_resumes_and_reports_refusals', async () => {
  const erin = await loginPage(browser, demo.url, 'erin', '?transports=sse');
  await erin.addInitScript(() => { window.WebSocket = undefined; });
  await erin.reload();
  await erin.waitForFunction(() => window.demo && window.demo.herald.state === 'open', null, { timeout: 10000 });
  assert.equal(await erin.evaluate(() => typeof window.WebSocket), 'undefined');
  // Messages before the stream is confirmed would not be seen: wait for one.
  await until(async () => {
    await hd.emit('user.erin', 'probe');
    await sleep(50);
    return (await received(erin)).length > 0;
  }, 10000, 'the SSE stream');
  await erin.evaluate(() => { window.demo.received.length = 0; });
  await cutMidStream(erin, 'user.erin', 24);
  await erin.click('#snoop');
  await erin.waitForFunction(() => window.demo.errors.some((e) => e.channel === 'user.bob'), null, { timeout: 10000 });
  const e = (await erin.evaluate(() => window.demo.errors)).find((x) => x.channel === 'user.bob');
  assert.equal(e.code, 'forbidden');
  // The refused name is dropped and the others keep flowing.
  await hd.emit('user.erin', 'still here');
  await erin.waitForFunction(() => window.demo.received.some((m) => m.data === 'still here'), null, { timeout: 10000 });
  await erin.context().close();
});

test('history_exhausted_while_disconnected_is_reported_as_a_gap', async () => {
  const dave = await loginPage(browser, demo.url, 'dave');
  await subscribedTo(dave, 'user.dave');
  await hd.emit('user.dave', 'before');
  await dave.waitForFunction(() => window.demo.received.length === 1);
  proxy.block();
  proxy.cut();
  await dave.waitForFunction(() => window.demo.herald.state === 'reconnecting');
  for (let i = 0; i < HISTORY + 8; i++) await hd.emit('user.dave', 'lost' + i);
  proxy.block(false);
  await subscribedTo(dave, 'user.dave', 2);
  await dave.waitForFunction(() => window.demo.gaps.length === 1, null, { timeout: 10000 });
  const [gap] = await dave.evaluate(() => window.demo.gaps);
  assert.equal(gap.channel, 'user.dave');
  assert.match(await dave.textContent('#log'), /gap/);
  await hd.emit('user.dave', 'after');
  await dave.waitForFunction(() => window.demo.received.some((m) => m.data === 'after'));
  assert.deepEqual(await received(dave), ['user.dave:before', 'user.dave:after']);
  await dave.context().close();
});
