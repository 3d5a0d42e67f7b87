// README "Quickstart" as written: its two PHP files taken from the README,
// served by `php -S` with the extension, heraldd where the README says
// (127.0.0.1:8080 becomes this test's free port), a real chromium on the page.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { top, extSo, startHeraldd, start, freePort, tempDir, until, tcpReady, launchBrowser, emitRequest }
  from '../browser/lib.mjs';

const cleanups = [];
after(async () => { for (const f of cleanups.reverse()) await f(); });

// The ```php blocks of the Quickstart section, by the file name each starts with.
function quickstartFiles() {
  const readme = readFileSync(join(top, 'README.md'), 'utf8');
  const section = readme.split(/^## Quickstart\n/m)[1]?.split(/^## /m)[0];
  assert.ok(section, 'README has a "## Quickstart" section');
  const files = {};
  for (const [, code] of section.matchAll(/```php\n([\s\S]*?)```/g)) {
    const name = code.match(/^<\?php \/\/ ([\w.-]+\.php):/)?.[1];
    assert.ok(name, 'each Quickstart block starts with <?php // NAME.php: ...; got: ' + code.slice(0, 60));
    files[name] = code;
  }
  assert.deepEqual(Object.keys(files).sort(), ['emit.php', 'page.php']);
  return files;
}

test('quickstart_page_receives_what_emit_php_sends', { timeout: 60000 }, async () => {
  const files = quickstartFiles();
  const hd = await startHeraldd();
  cleanups.push(() => hd.stop());
  const dir = tempDir('quickstart');
  cleanups.push(() => dir.remove());
  for (const [name, code] of Object.entries(files)) {
    writeFileSync(join(dir.path, name), code.replaceAll('127.0.0.1:8080', `127.0.0.1:${hd.port}`));
  }
  const port = await freePort();
  const php = start('php', ['-n', '-d', `extension=${extSo}`, '-d', `herald.endpoint=unix://${hd.emitSock}`,
    '-d', `herald.secret_file=${hd.secretFile}`, '-S', `127.0.0.1:${port}`, '-t', dir.path]);
  cleanups.push(() => php.stop());
  await until(async () => { if (php.exitCode !== null) throw new Error('php -S exited: ' + php.log); return tcpReady(port); },
    10000, 'php -S');

  const browser = await launchBrowser();
  cleanups.push(() => browser.close());
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/page.php`);
  // heraldd counts the page's subscription before anything is emitted.
  await until(async () => JSON.parse((await emitRequest(hd.emitSock, 'GET', '/stats')).body).subscriptions >= 1,
    10000, 'the page to subscribe');
  const r = await fetch(`http://127.0.0.1:${port}/emit.php`);
  assert.equal(r.status, 200);
  assert.match((await r.text()).trim(), /^\d+$/, 'emit.php prints the id');
  await page.waitForFunction(() => /^hello at \d\d:\d\d:\d\d$/.test(document.querySelector('#log li')?.textContent || ''),
    null, { timeout: 10000 });
  assert.deepEqual(errors, []);
});
