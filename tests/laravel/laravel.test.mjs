// The Laravel broadcaster (integrations/laravel) in a minimal Laravel 8 app
// (tests/laravel, Debian's php-laravel-framework) under `php -S` with the
// built extension, against a real heraldd with a pusher_apps_file, and
// Chromium running the real laravel-echo and pusher-js from npm, which the
// app itself serves (a page must come from loopback to reach loopback).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startHeraldd, start, launchBrowser, tempDir, until, freePort, tcpReady, extSo, top } from '../browser/lib.mjs';

const KEY = 'laravel-key';
let hd, php, browser, ctx, dir;

before(async () => {
  dir = tempDir('laravel');
  const apps = join(dir.path, 'apps');
  writeFileSync(apps, `1:other-key:${randomBytes(16).toString('hex')}\n1001:${KEY}:${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  hd = await startHeraldd({ extra: { pusher_apps_file: apps, public_channels: 'public-*' } });
  // Debian's conf.d (Laravel needs mbstring, ctype, tokenizer, fileinfo…) minus any herald.ini
  const scan = join(dir.path, 'conf.d');
  mkdirSync(scan);
  for (const f of readdirSync('/etc/php/8.2/cli/conf.d')) if (!f.includes('herald')) symlinkSync(join('/etc/php/8.2/cli/conf.d', f), join(scan, f));
  mkdirSync(join(dir.path, 'views'));
  const port = await freePort();
  const root = join(top, 'tests/laravel/public');
  php = start('php', ['-d', `extension=${extSo}`, '-d', 'opcache.enable_cli=1', '-d', `herald.endpoint=unix://${hd.emitSock}`,
    '-d', `herald.pusher_apps_file=${apps}`, '-d', 'display_errors=0', '-d', 'log_errors=1', '-d', 'error_log=',
    '-S', `127.0.0.1:${port}`, '-t', root, join(root, 'index.php')], {
    env: { ...process.env, PHP_INI_SCAN_DIR: scan, LARAVEL_TEST_VAR: dir.path, HERALD_PUSHER_APP_KEY: KEY,
      HERALD_WS_PORT: String(hd.port), LARAVEL_TEST_NODE_MODULES: join(top, 'tests/node_modules') },
  });
  php.url = `http://127.0.0.1:${port}`;
  await until(async () => {
    if (php.exitCode !== null) throw new Error('php -S exited: ' + php.log);
    return tcpReady(port);
  }, 10000, 'php -S');
  browser = await launchBrowser();
  // one context: users differ by the page's X-Test-User, not by cookies
  ctx = await browser.newContext();
});

after(async () => {
  await browser?.close();
  await php?.stop();
  await hd?.stop();
  dir?.remove();
  // Laravel logs its exceptions to stderr: none is expected
  assert.doesNotMatch(php?.log ?? '', /\.ERROR:|PHP (Fatal|Warning)/, php?.log);
});

// A tab of `user` on the app's page, with Echo connected to heraldd.
async function tab(user) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(`${php.url}/?user=${user}`);
  await page.evaluate(() => {
    window.log = [];
    Echo.connector.pusher.connection.bind('error', (e) => window.log.push(['error', e?.data?.code ?? e?.error?.data?.code]));
  });
  await page.waitForFunction(() => Echo.connector.pusher.connection.state === 'connected', null, { timeout: 10000 });
  return page;
}
const logOf = (page) => page.evaluate(() => window.log);
const waitLog = (page, pred, what) => until(async () => pred(await logOf(page)), 10000, what);
const ship = (page, id, note) => page.evaluate(async ([id, note]) => {
  const r = await fetch(`/orders/${id}/ship`, { method: 'POST', body: new URLSearchParams({ note }) });
  return [r.status, await r.json()];
}, [id, note]);

test('Echo.channel() and Echo.private() receive an event broadcast from a Laravel route; a user the channel callback refuses gets 403', async () => {
  const ann = await tab(1);
  await ann.evaluate(() => new Promise((resolve) => {
    let n = 0;
    const done = () => { if (++n === 2) resolve(); };
    Echo.channel('public-orders').subscribed(done).listen('OrderShipped', (e) => window.log.push(['public', e]));
    Echo.private('orders.5').subscribed(done).listen('OrderShipped', (e) => window.log.push(['private', e]));
  }));
  const eve = await tab(3);
  const refused = await eve.evaluate(() => new Promise((resolve) => {
    Echo.private('orders.5').error((e) => resolve(e.status)).listen('OrderShipped', (e) => window.log.push(['private', e]));
  }));
  assert.equal(refused, 403);

  assert.deepEqual(await ship(ann, 5, 'by van'), [200, { shipped: 5 }]);
  await waitLog(ann, (l) => l.length === 2, 'the public and the private event');
  const got = Object.fromEntries(await logOf(ann));
  // the payload is the event's public properties; `socket` (toOthers) is not sent
  assert.deepEqual(got.public, { orderId: 5, note: 'by van' });
  assert.deepEqual(got.private, { orderId: 5, note: 'by van' });
  // eve was refused: the private event did not reach her
  assert.deepEqual(await logOf(eve), []);
  await ann.close();
  await eve.close();
});

test('Echo.join(): here/joining/leaving with two tabs of one user and a second user', async () => {
  const join = (page) => page.evaluate(() => new Promise((resolve) => {
    Echo.join('room')
      .here((users) => { window.log.push(['here', users.map((u) => u.name).sort()]); resolve(); })
      .joining((u) => window.log.push(['joining', u.name]))
      .leaving((u) => window.log.push(['leaving', u.name]))
      .listen('OrderShipped', (e) => window.log.push(['event', e.orderId]));
  }));
  const ann1 = await tab(1);
  await join(ann1);
  const ann2 = await tab(1);
  await join(ann2);
  assert.deepEqual(await logOf(ann2), [['here', ['ann']]]); // one member, two tabs
  const bob = await tab(2);
  await join(bob);
  assert.deepEqual(await logOf(bob), [['here', ['ann', 'bob']]]);
  await waitLog(ann1, (l) => l.some((e) => e[0] === 'joining'), 'bob joining');

  // a broadcast to the presence channel reaches every tab
  await ship(bob, 9, 'room');
  for (const p of [ann1, ann2, bob]) await waitLog(p, (l) => l.some((e) => e[0] === 'event'), 'the event in the room');

  await ann2.close(); // ann still has a tab: nobody leaves
  await bob.close();
  await waitLog(ann1, (l) => l.some((e) => e[0] === 'leaving'), 'bob leaving');
  assert.deepEqual(await logOf(ann1), [['here', ['ann']], ['joining', 'bob'], ['event', 9], ['leaving', 'bob']]);
  await ann1.close();
});

test('a client event (whisper) is refused with 4301 and never reaches the other member', async () => {
  const ann = await tab(1);
  const bob = await tab(2);
  for (const p of [ann, bob]) {
    await p.evaluate(() => new Promise((resolve) => {
      Echo.private('orders.7').subscribed(resolve)
        .listenForWhisper('typing', (e) => window.log.push(['whisper', e]))
        .listen('OrderShipped', (e) => window.log.push(['event', e.orderId]));
    }));
  }
  await ann.evaluate(() => Echo.private('orders.7').whisper('typing', { who: 'ann' }));
  await waitLog(ann, (l) => l.some((e) => e[0] === 'error' && e[1] === 4301), 'pusher:error 4301');
  // heraldd answers in order: an event sent after the whisper arrives, the whisper never
  await ship(ann, 7, 'after');
  await waitLog(bob, (l) => l.length > 0, 'the event');
  assert.deepEqual(await logOf(bob), [['event', 7]]);
  await ann.close();
  await bob.close();
});

test('broadcast()->toOthers(): the tab whose X-Socket-ID it is does not get the event, the other tab does', async () => {
  const ann = await tab(1);
  const bob = await tab(2);
  for (const p of [ann, bob]) {
    await p.evaluate(() => new Promise((resolve) => {
      let n = 0;
      const done = () => { if (++n === 2) resolve(); };
      Echo.channel('public-orders').subscribed(done).listen('OrderShipped', (e) => window.log.push(['public', e.note]));
      Echo.private('orders.11').subscribed(done).listen('OrderShipped', (e) => window.log.push(['private', e.note]));
    }));
  }
  // what Echo's axios interceptor adds to the app's requests: X-Socket-ID
  const shipOthers = (page, note, socketId) => page.evaluate(async ([note, socketId]) => {
    const r = await fetch('/orders/11/ship-to-others', { method: 'POST', body: new URLSearchParams({ note }),
      headers: { 'X-Socket-ID': socketId ?? Echo.socketId() } });
    return [r.status, await r.json()];
  }, [note, socketId]);
  assert.deepEqual(await shipOthers(ann, 'from ann'), [200, { shipped: 11 }]);
  // a malformed X-Socket-ID: refused by the broadcaster, nothing is sent
  const [status, body] = await shipOthers(ann, 'bad socket', '1.2; DROP');
  assert.equal(status, 400);
  assert.match(body.error, /invalid socket id/);
  // then one to everyone: it reaching ann shows her channels work
  await ship(ann, 11, 'to all');
  await waitLog(ann, (l) => l.length === 2, 'the event to all');
  await waitLog(bob, (l) => l.length === 4, 'both events');
  const sorted = async (p) => (await logOf(p)).map((e) => e.join(':')).sort();
  assert.deepEqual(await sorted(ann), ['private:to all', 'public:to all']);
  assert.deepEqual(await sorted(bob), ['private:from ann', 'private:to all', 'public:from ann', 'public:to all']);
  await ann.close();
  await bob.close();
});
