// The framework examples (examples/symfony, examples/slim) under `php -S`
// with the built extension, against a real heraldd: the page a framework
// renders carries a signed name from Herald\channel() and points at
// heraldd's herald.js; a WebSocket client (the ws package) subscribes with
// that name, POSTs to the framework's emit route, and receives the message.
// PHP runs with Debian's php.ini and conf.d (the framework packages need
// ctype, tokenizer and the like from there), minus any herald.ini, plus
// the extension under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readdirSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startHeraldd, client, until, freePort, top } from '../integration/lib/heraldd.mjs';

const extSo = process.env.HERALD_EXT || join(top, 'build/ext/modules/herald.so');
const confD = '/etc/php/8.2/cli/conf.d';

const tcpReady = (port) => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

async function startApp(name, hd) {
  if (!existsSync(extSo)) throw new Error(`${extSo} is not built (scripts/build-ext)`);
  const dir = mkdtempSync(join(tmpdir(), `herald-${name}-`));
  const scan = join(dir, 'conf.d');
  mkdirSync(scan);
  for (const f of readdirSync(confD)) if (!f.includes('herald')) symlinkSync(join(confD, f), join(scan, f));
  const port = await freePort();
  const root = join(top, 'examples', name, 'public');
  const proc = spawn('php', ['-d', `extension=${extSo}`, '-d', `herald.endpoint=unix://${hd.emitSock}`,
    '-d', `herald.secret_file=${hd.secretFile}`, '-d', 'display_errors=0', '-d', 'log_errors=1', '-d', 'error_log=', '-d', 'error_reporting=-1',
    '-S', `127.0.0.1:${port}`, '-t', root, join(root, 'index.php')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PHP_INI_SCAN_DIR: scan, APP_VAR_DIR: join(dir, 'var'),
      HERALD_PUBLIC_URL: `ws://127.0.0.1:${hd.port}` },
  });
  proc.log = '';
  proc.stdout.on('data', (b) => { proc.log += b; });
  proc.stderr.on('data', (b) => { proc.log += b; });
  const exited = new Promise((r) => proc.once('exit', r));
  const app = {
    url: `http://127.0.0.1:${port}`,
    // PHP's own errors and warnings (logged to the server's stderr). Debian
    // 12's Slim 3.12 predates PHP 8.1's return types: its E_DEPRECATED
    // notices (hidden by Debian's php.ini) come from /usr/share/php, not from
    // this project, and are reported apart.
    phpErrors: () => proc.log.split('\n').filter((l) => /PHP (Fatal error|Parse error|Warning|Notice|Deprecated)/.test(l)),
    complaints() { return this.phpErrors().filter((l) => !/PHP Deprecated: .* in \/usr\/share\/php\//.test(l)); },
    packagedDeprecations() { return [...new Set(this.phpErrors().filter((l) => !this.complaints().includes(l)).map((l) => l.replace(/^\[[^\]]*\] /, '')))]; },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGTERM'); await exited; }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until(async () => {
      if (proc.exitCode !== null) throw new Error('php -S exited: ' + proc.log);
      return tcpReady(port);
    }, 10000, 'php -S');
  } catch (e) { await app.stop(); throw e; }
  return app;
}

// The first string literal passed to herald.subscribe( / Herald.connect( in
// the page's script, decoded (Twig's |e('js') writes \uXXXX escapes).
function jsArg(html, call) {
  const re = new RegExp(call.replace(/[.(]/g, '\\$&') + `\\s*(['"])((?:\\\\.|(?!\\1).)*)\\1`);
  const m = re.exec(html);
  assert.ok(m, `no ${call}'...') in the page:\n${html}`);
  return JSON.parse('"' + m[2].replace(/\\'/g, "'") + '"');
}

for (const fw of ['symfony', 'slim']) {
  test(`${fw}: the page subscribes with a signed name, POST /emit reaches a WebSocket subscriber`, async (t) => {
    const hd = await startHeraldd();
    let app;
    try {
      app = await startApp(fw, hd);
      const page = await fetch(app.url + '/');
      const html = await page.text();
      assert.equal(page.status, 200, html);

      // The page loads herald.js from heraldd and connects to it.
      const src = /<script src="([^"]+)"><\/script>/.exec(html);
      assert.ok(src, html);
      assert.equal(src[1], `http://127.0.0.1:${hd.port}/herald.js`);
      assert.equal((await fetch(src[1])).status, 200);
      assert.equal(jsArg(html, 'Herald.connect('), `ws://127.0.0.1:${hd.port}`);

      // Its name is signed with heraldd's secret: heraldd accepts it.
      const name = jsArg(html, 'herald.subscribe(');
      assert.equal(name, hd.sign('news', { expiry: Number(name.split('.')[2]) }));
      const c = await client(hd);
      try {
        const ans = await c.subscribe(name);
        assert.equal(ans.type, 'subscribed', JSON.stringify(ans));

        const text = `hello from ${fw} <&> é`;
        const r = await fetch(app.url + '/emit', { method: 'POST', body: new URLSearchParams({ message: text }) });
        const body = await r.json();
        assert.equal(r.status, 200, JSON.stringify(body));
        assert.equal(body.channel, 'news');
        const m = await until(() => c.messages().find((x) => x.data === text), 5000, 'the message at the subscriber');
        assert.equal(m.channel, 'news');
        assert.equal(String(m.id), String(body.id));

        // Bad requests get a clear answer, and nothing is published.
        const empty = await fetch(app.url + '/emit', { method: 'POST', body: new URLSearchParams({}) });
        assert.equal(empty.status, 400);
        assert.match((await empty.json()).error, /message/);
        assert.equal((await fetch(app.url + '/emit')).status, 405);
        assert.equal(c.messages().length, 1);
      } finally { c.close(); }

      // heraldd down: the route says so (502), it does not crash.
      await hd.stop();
      const down = await fetch(app.url + '/emit', { method: 'POST', body: new URLSearchParams({ message: 'x' }) });
      assert.equal(down.status, 502);
      assert.match((await down.json()).error, /^heraldd: .*cannot reach heraldd/);

      assert.deepEqual(app.complaints(), [], 'PHP logged warnings or errors');
      for (const d of app.packagedDeprecations()) t.diagnostic('from a Debian package, not ours: ' + d);
    } finally {
      if (app) await app.stop();
      await hd.stop();
    }
  });
}
