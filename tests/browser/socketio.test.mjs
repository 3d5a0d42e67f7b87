// The 2013 page (examples/socketio-2013/index.html), verbatim but for the
// push server's host and port, in Chromium against heraldd speaking
// socket.io: its socket.io.js is socket.io-client 4 from npm, served by
// heraldd; its links go through the demo app's PHP emit route; the seed's
// curl to the emit port reaches it too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHeraldd, startDemo, launchBrowser, loginPage, until, freePort, top } from './lib.mjs';
import http from 'node:http';

let hd, demo, browser, emitPort;

before(async () => {
  emitPort = await freePort();
  hd = await startHeraldd({ extra: {
    emit_listen: `127.0.0.1:${emitPort}`,
    socketio_channels: 'id*',
    socketio_client_js: join(top, 'tests/node_modules/socket.io-client/dist/socket.io.js'),
  } });
  demo = await startDemo(hd);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
  await hd?.stop();
});

// Zepto from the page's CDN, which this machine cannot reach: the page
// only needs $.get, so the test answers that URL with a $.get of its own.
const zeptoStandIn = 'window.$ = { get: function (u) { return fetch(u, { credentials: "same-origin" }); } };';

test('the_2013_page_runs_unchanged_and_shows_what_its_links_emit', async () => {
  const page = await loginPage(browser, demo.url, 'alice');
  // The demo app serves the page with its push server's host:port.
  const html = readFileSync(join(top, 'examples/socketio-2013/index.html'), 'utf8');
  assert.match(html, /io\.connect\('\/\/localhost:8080'\)/);
  await page.route('**/zepto.min.js', (r) => r.fulfill({ contentType: 'text/javascript', body: zeptoStandIn }));
  const logged = [];
  page.on('console', (m) => logged.push(m.text()));
  await page.goto(demo.url + '/socketio-2013');
  await page.waitForFunction(() => window.socket && window.socket.connected, null, { timeout: 10000 });
  // The default transports: polling first, then the upgrade.
  await page.waitForFunction(() => window.socket.io.engine.transport.name === 'websocket', null, { timeout: 10000 });
  await page.click('text=emit(\'id1\', \'hello\')');
  await page.click('text=emit(\'id1\', \'bye\')');
  await until(() => logged.filter((l) => l.startsWith('mensage')).length >= 2, 10000, 'two messages');
  // The seed's route on the emit port, as the 2013 curl call did.
  await new Promise((res, rej) => http.get(`http://127.0.0.1:${emitPort}/emit/id1/from%20curl`, (r) => { r.resume(); r.on('end', res); }).on('error', rej));
  await until(() => logged.filter((l) => l.startsWith('mensage')).length >= 3, 10000, 'the curl message');
  assert.deepEqual(logged.filter((l) => l.startsWith('mensage')),
    ['mensage from websocket: hello', 'mensage from websocket: bye', 'mensage from websocket: from curl']);
  assert.deepEqual(page.errors || [], []);
  await page.context().close();
});
