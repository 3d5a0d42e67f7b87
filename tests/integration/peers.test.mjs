// Who a client is, for max_connections_per_ip (issue 11, items 9 and 10):
// behind a trusted proxy only the header it is configured to set names the
// client, and IPv6 clients are counted by their prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHeraldd, until } from './lib/heraldd.mjs';

// Open a WebSocket upgrade with extra header lines; resolves its status
// and the socket (left open, so the connection keeps counting).
function upgrade(hd, extra) {
  return new Promise((resolve) => {
    const s = net.connect(hd.port, '127.0.0.1');
    let data = '';
    s.on('error', () => {});
    s.on('data', (b) => {
      data += b;
      if (data.includes('\r\n\r\n')) resolve({ status: Number(data.split(' ')[1]), s });
    });
    s.on('connect', () => s.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`));
  });
}

test('behind_a_forwarded_proxy_a_client_x_forwarded_for_is_ignored', async () => {
  const hd = await startHeraldd({ args: ['--trusted_proxies', '127.0.0.1', '--trusted_proxy_header', 'Forwarded',
    '--max_connections_per_ip', '2'] });
  try {
    const open = [];
    // The proxy appends for= of the client it saw; the client made up an
    // X-Forwarded-For of its own, fresh on each connection.
    for (let i = 1; i <= 3; i++) {
      const r = await upgrade(hd, `X-Forwarded-For: 203.0.113.${i}\r\nForwarded: for=198.51.100.7\r\n`);
      open.push(r);
    }
    assert.deepEqual(open.map((r) => r.status), [101, 101, 503]);
    // The right-most untrusted hop: a client's own for= before the proxy's is not it.
    const other = await upgrade(hd, 'Forwarded: for=198.51.100.7, for=192.0.2.9;proto=https\r\n');
    assert.equal(other.status, 101);
    for (const r of [...open, other]) r.s.destroy();
  } finally { await hd.stop(); }
});

test('with_x_forwarded_for_configured_a_forwarded_header_is_ignored', async () => {
  const hd = await startHeraldd({ args: ['--trusted_proxies', '127.0.0.1', '--max_connections_per_ip', '1'] });
  try {
    const a = await upgrade(hd, 'Forwarded: for=192.0.2.1\r\nX-Forwarded-For: 198.51.100.8\r\n');
    const b = await upgrade(hd, 'Forwarded: for=192.0.2.2\r\nX-Forwarded-For: 198.51.100.8\r\n');
    assert.deepEqual([a.status, b.status], [101, 503]);
    a.s.destroy(); b.s.destroy();
  } finally { await hd.stop(); }
});

test('ipv6_clients_are_counted_by_their_64_prefix', async () => {
  const hd = await startHeraldd({ args: ['--trusted_proxies', '127.0.0.1', '--max_connections_per_ip', '2'] });
  try {
    const same = [];
    for (const a of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:db8:1:2:abcd:1:2:3'])
      same.push(await upgrade(hd, `X-Forwarded-For: ${a}\r\n`));
    assert.deepEqual(same.map((r) => r.status), [101, 101, 503]);
    const next = await upgrade(hd, 'X-Forwarded-For: 2001:db8:1:3::1\r\n'); // another /64
    assert.equal(next.status, 101);
    const st = JSON.parse((await hd.emitReq('GET', '/stats')).body);
    assert.equal(st.per_ip_refused, 1);
    for (const r of [...same, next]) r.s.destroy();
  } finally { await hd.stop(); }
  // The prefix is a key: /128 counts every address apart.
  const h2 = await startHeraldd({ args: ['--trusted_proxies', '127.0.0.1', '--max_connections_per_ip', '1', '--ipv6_prefix_bits', '128'] });
  try {
    const a = await upgrade(h2, 'X-Forwarded-For: 2001:db8::1\r\n');
    const b = await upgrade(h2, 'X-Forwarded-For: 2001:db8::2\r\n');
    assert.deepEqual([a.status, b.status], [101, 101]);
    a.s.destroy(); b.s.destroy();
  } finally { await h2.stop(); }
});
