// Several heraldd nodes on one Redis (README "Several servers"): a real
// redis-server on a free loopback port, three nodes, WebSocket clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { startHeraldd, client, freePort, until, request, raw, sleep } from './lib/heraldd.mjs';

// A throwaway redis-server (no persistence), stopped by PID.
async function startRedis(port) {
  port = port || await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--protected-mode', 'no'], { stdio: ['ignore', 'ignore', 'ignore'] });
  proc.exited = new Promise((r) => proc.once('exit', r));
  await until(() => new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => { s.destroy(); res(d.toString().startsWith('+PONG')); });
    s.on('error', () => res(false));
  }), 5000, 'redis-server');
  return {
    proc, port, url: `redis://127.0.0.1:${port}`,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) { process.kill(proc.pid, signal); await proc.exited; }
    },
  };
}

const SECRET_ARGS = ['--public_channels', 'pub.*', '--history_size', '50'];
let redis;
const nodes = [];

before(async () => {
  redis = await startRedis();
  for (let i = 0; i < 3; i++) nodes.push(await startHeraldd({ args: ['--redis', redis.url, ...SECRET_ARGS] }));
  for (const n of nodes) await until(async () => (await n.stats()).redis_link_up === 1, 5000, 'link up');
});

after(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
  await redis.stop();
});

test('an emit to any node reaches subscribers on every node, in order', async () => {
  const subs = [];
  for (const n of nodes) for (let k = 0; k < 2; k++) {
    const c = await client(n);
    const a = await c.subscribe('pub.fan');
    assert.equal(a.type, 'subscribed', JSON.stringify(a));
    subs.push(c);
  }
  const ids = [];
  for (let i = 0; i < 30; i++) ids.push((await nodes[i % 3].emit('pub.fan', 'm' + i)).id);
  for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] + 1);
  for (const c of subs) {
    await until(() => c.messages().length >= 30, 5000, 'all 30 messages');
    assert.deepEqual(c.messages().map((m) => m.data), ids.map((_, i) => 'm' + i));
    assert.deepEqual(c.messages().map((m) => m.id), ids);
    c.close();
  }
});
