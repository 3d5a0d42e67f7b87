// A real Chromium page on the same host tries to publish through the
// loopback emit listener (issue 11, item 1): a no-cors fetch POST and an
// <img> GET of the seed's route reach heraldd and are refused; nothing is
// published.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startHeraldd, freePort, until, emitRequest, launchBrowser } from './lib.mjs';

let hd, browser, site, emitPort;
before(async () => {
  emitPort = await freePort();
  hd = await startHeraldd({ extra: { emit_listen: `127.0.0.1:${emitPort}` } });
  // The attacker's page, served from another local origin.
  site = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>x</title>');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await new Promise((r) => (site ? site.close(r) : r()));
  await hd?.stop();
});

const stats = async () => JSON.parse((await emitRequest(hd.emitSock, 'GET', '/stats')).body);

test('a_page_cannot_publish_with_no_cors_fetch_or_an_image', async () => {
  const page = await browser.newPage();
  await page.goto(`http://localhost:${site.address().port}/`);
  const before_ = await stats();
  const target = `http://127.0.0.1:${emitPort}`;
  await page.evaluate(async (t) => {
    await fetch(t + '/emit/private.orders', { method: 'POST', mode: 'no-cors', body: 'from a page' }).catch(() => {});
    await new Promise((r) => { const i = new Image(); i.onload = i.onerror = r; i.src = t + '/emit/private.orders/from%20an%20img'; });
    await fetch(t + '/stats', { mode: 'no-cors' }).catch(() => {});
  }, target);
  await until(async () => (await stats()).emit_browser_refused - before_.emit_browser_refused >= 3, 5000, 'three refusals');
  const after_ = await stats();
  assert.equal(after_.messages_emitted, before_.messages_emitted, 'nothing published');
  await page.close();
});
