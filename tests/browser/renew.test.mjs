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

// Issue 12 item 2: a raw EventSource (no herald.js) on three channels, cut
// by the network mid-stream while messages keep coming, reconnects by
// itself with one Last-Event-ID, and every channel resumes exactly.
test('a_raw_eventsource_on_three_channels_cut_mid_stream_resumes_all_three_exactly', async () => {
  const { startProxy } = await import('./lib.mjs');
  const proxy = await startProxy(hd.port);
  const page = await browser.newPage();
  try {
    await page.goto(`${hd.http}/healthz`);
    const chans = ['raw.a', 'raw.b', 'raw.c'];
    const url = `http://127.0.0.1:${proxy.port}/sse?` + chans.map((c) => 'channel=' + encodeURIComponent(hd.sign(c))).join('&');
    await page.evaluate((u) => {
      window.got = []; window.opens = 0; window.ids = [];
      const es = new EventSource(u);
      es.onopen = () => opens++;
      es.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.type === 'message') { got.push(`${m.channel}:${m.data}`); ids.push(e.lastEventId); }
        if (m.type === 'subscribed' && m.resume) got.push(`${m.channel}:resume=${m.resume}`);
      };
    }, url);
    await page.waitForFunction(() => opens === 1);
    await until(async () => JSON.parse((await (await import('./lib.mjs')).emitRequest(hd.emitSock, 'GET', '/stats')).body).subscriptions >= 3);
    const sent = [];
    const round = async (k) => { for (const c of chans) { await hd.emit(c, `${k}`); sent.push(`${c}:${k}`); } };
    // b's last message is older than a's and c's: a one-channel id would lose two of them
    await round(0); await hd.emit('raw.b', 'b-only'); sent.push('raw.b:b-only'); await hd.emit('raw.a', 'a-only'); sent.push('raw.a:a-only');
    await page.waitForFunction((n) => got.length === n, sent.length);
    proxy.block(true);
    proxy.cut();
    for (let k = 1; k <= 3; k++) await round(k);
    proxy.block(false);
    await page.waitForFunction((n) => got.filter((g) => !g.includes('resume=')).length === n, sent.length, { timeout: 15000 });
    const got = await page.evaluate(() => got);
    for (const c of chans) {
      assert.deepEqual(got.filter((g) => g.startsWith(c + ':') && !g.includes('resume=')), sent.filter((s) => s.startsWith(c + ':')), c);
      assert.ok(got.includes(`${c}:resume=ok`), `${c} resumed from the id: ${got}`);
    }
    assert.match((await page.evaluate(() => ids)).at(-1), /^~\d+\.\d+\.\d+$/);
  } finally { await page.close(); await proxy.stop(); }
});
