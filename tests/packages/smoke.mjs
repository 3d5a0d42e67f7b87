// The installed packages, end to end: heraldd from /usr/bin with
// /etc/herald/heraldd.conf (started by tests/suites/87-packages.sh), PHP with
// the extension that php8.2-herald enabled, as www-data (the user php-fpm
// runs as), and a WebSocket client (the ws package) on the public listener.
// Environment: PKG_PORT (heraldd's public port), PKG_FPM_SOCK and
// PKG_FPM_SCRIPT (a php-fpm pool running as www-data, and the script it runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { WebSocket } from 'ws';

const port = Number(process.env.PKG_PORT);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(10);
  }
}

// PHP CLI as www-data, with no -n: the php.ini and conf.d of the system,
// so the extension is there only if the package enabled it.
const phpAsWwwData = (code) =>
  execFileSync('runuser', ['-u', 'www-data', '--', 'php', '-r', code], { encoding: 'utf8', timeout: 10000 });

async function subscriber(name) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const c = { ws, msgs: [] };
  ws.on('message', (b) => c.msgs.push(JSON.parse(b.toString())));
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  ws.send(JSON.stringify({ type: 'subscribe', channel: name, req: 1 }));
  c.answer = await until(() => c.msgs.find((m) => m.req === 1), 5000, 'the answer to subscribe');
  c.message = (data) => until(() => c.msgs.find((m) => m.type === 'message' && m.data === data), 5000, `message ${data}`);
  return c;
}

test('php-cli as www-data signs with the packaged secret, heraldd accepts it, and an emit reaches the client', async () => {
  const name = phpAsWwwData('echo Herald\\channel("pkg.smoke", 600);');
  assert.match(name, /^pkg\.smoke~v1\.0\.\d+\.[A-Za-z0-9_-]{43}$/);
  const c = await subscriber(name);
  try {
    assert.equal(c.answer.type, 'subscribed', JSON.stringify(c.answer));
    const id = phpAsWwwData('echo Herald\\emit("pkg.smoke", "from php-cli");');
    const m = await c.message('from php-cli');
    assert.equal(m.channel, 'pkg.smoke');
    assert.equal(String(m.id), id.trim());
  } finally { c.ws.terminate(); }
});

test('a name signed with another secret is refused (heraldd reads /etc/herald/secret)', async () => {
  const forged = phpAsWwwData('ini_set("herald.secret_file", ""); ini_set("herald.secret", str_repeat("x", 32)); echo Herald\\channel("pkg.smoke", 600);');
  const c = await subscriber(forged);
  try {
    assert.equal(c.answer.type, 'error', JSON.stringify(c.answer));
  } finally { c.ws.terminate(); }
});

test('php-fpm (pool user www-data) with the packaged extension emits, the client receives', async () => {
  const c = await subscriber(phpAsWwwData('echo Herald\\channel("pkg.fpm", 600);'));
  try {
    assert.equal(c.answer.type, 'subscribed');
    // cgi-fcgi: a FastCGI client (libfcgi-bin) talking to the pool's socket
    const out = execFileSync('cgi-fcgi', ['-bind', '-connect', process.env.PKG_FPM_SOCK], {
      encoding: 'utf8', timeout: 10000,
      env: { ...process.env, REQUEST_METHOD: 'GET', SCRIPT_FILENAME: process.env.PKG_FPM_SCRIPT, QUERY_STRING: 'channel=pkg.fpm' },
    });
    const id = /emitted (\d+)/.exec(out);
    assert.ok(id, out);
    const m = await c.message('from php-fpm');
    assert.equal(String(m.id), id[1]);
  } finally { c.ws.terminate(); }
});
