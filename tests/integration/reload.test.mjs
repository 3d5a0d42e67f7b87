// SIGHUP: secrets rotate and limits change without dropping a connection;
// a broken new configuration is refused and the running one stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHeraldd, client, until, sign } from './lib/heraldd.mjs';

const A = 'secret-A-0123456789abcdefghij', B = 'secret-B-0123456789abcdefghij';

// With two loops every loop applies the reload (each counts it in /stats).
for (const workers of [1, 2])
test(`sighup_rotates_secrets_and_limits_without_dropping_connections (workers=${workers})`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-reload-'));
  const secrets = join(dir, 'secrets'), conf = join(dir, 'heraldd.conf');
  const write = (f, text) => writeFileSync(f, text, { mode: 0o600 });
  write(secrets, `a:${A}\n`);
  write(conf, `secret_file = ${secrets}\nmax_subscriptions = 2\n`);
  const hd = await startHeraldd({ secret: false, args: ['--config', conf, '--workers', String(workers)] });
  const reload = async (n) => {
    hd.proc.kill('SIGHUP');
    await until(async () => (await hd.stats()).reloads === n * workers, 5000, `reload ${n} on every loop`);
  };
  try {
    const old = await client(hd);
    assert.equal((await old.subscribe(sign(A, 'orders', { kid: 'a' }))).type, 'subscribed');
    assert.equal((await old.subscribe(sign(A, 'two', { kid: 'a' }))).type, 'subscribed');
    assert.equal((await old.subscribe(sign(A, 'three', { kid: 'a' }))).code, 'too_many_subscriptions');

    // rotation, step 1: B signs, A still verifies; the limit goes up
    write(secrets, `b:${B}\na:${A}\n`);
    write(conf, `secret_file = ${secrets}\nmax_subscriptions = 3\n`);
    await reload(1);
    const c = await client(hd);
    assert.equal((await c.subscribe(sign(B, 'orders', { kid: 'b' }))).type, 'subscribed');
    assert.equal((await c.subscribe(sign(A, 'orders2', { kid: 'a' }))).type, 'subscribed');
    assert.equal((await old.subscribe(sign(A, 'three', { kid: 'a' }))).type, 'subscribed', 'new limit applies to open connections');

    // step 2: A removed; new A names are refused, open subscriptions made
    // with A end as revoked (SECURITY.md), those made with B stay
    write(secrets, `b:${B}\n`);
    await reload(2);
    const d = await client(hd);
    const refused = await d.subscribe(sign(A, 'orders', { kid: 'a' }));
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'forbidden');
    const ended = (x) => x.msgs.filter((m) => m.type === 'unsubscribed' && m.reason === 'revoked').map((m) => m.channel).sort();
    await until(() => ended(old).length === 3 && ended(c).length === 1, 5000, 'A subscriptions revoked');
    assert.deepEqual(ended(old), ['orders', 'three', 'two']);
    assert.deepEqual(ended(c), ['orders2']);
    await hd.emit('orders', 'after rotation');
    await until(() => c.messages().some((m) => m.data === 'after rotation'));
    assert.ok(!old.messages().some((m) => m.data === 'after rotation'), 'a revoked subscription receives nothing');
    assert.equal(old.ws.readyState, 1, 'the connection stays');

    // a broken configuration is refused as a whole
    write(secrets, 'short\n');
    hd.proc.kill('SIGHUP');
    await until(() => /reload refused/.test(hd.proc.log), 5000, 'the refusal in the log');
    assert.equal((await hd.stats()).reloads, 2 * workers);
    assert.equal((await d.subscribe(sign(B, 'orders', { kid: 'b' }))).type, 'subscribed', 'B still verifies');
    assert.ok(!hd.proc.log.includes(A) && !hd.proc.log.includes(B), 'no secret in the log');
    assert.match(hd.proc.log, /reload: max_subscriptions changed/);
    for (const x of [old, c, d]) x.close();
  } finally {
    await hd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
