// Writes the seed corpora under corpus/<target>/ (committed; rerun after
// changing this file: node tests/fuzz/make-seeds.mjs). Each seed is a small,
// meaningful input: the RFC 6455 examples and one case per decoder rule.
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

// A client frame; opts: fin (default 1), rsv, masked (default 1), lenForm.
function frame(op, payload, opts = {}) {
  const pl = Buffer.from(payload);
  const fin = opts.fin ?? 1, masked = opts.masked ?? 1, rsv = opts.rsv ?? 0;
  let form = opts.lenForm ?? (pl.length <= 125 ? 7 : pl.length <= 0xffff ? 16 : 64);
  const len = opts.len ?? pl.length;
  const h = [(fin ? 0x80 : 0) | (rsv << 4) | op];
  const m = masked ? 0x80 : 0;
  if (form === 7) h.push(m | len);
  else if (form === 16) h.push(m | 126, len >> 8, len & 255);
  else { h.push(m | 127); const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); h.push(...b); }
  const body = Buffer.from(pl);
  if (masked) for (let i = 0; i < body.length; i++) body[i] ^= KEY[i & 3];
  return Buffer.concat([Buffer.from(h), masked ? KEY : Buffer.alloc(0), body]);
}

// fuzz_ws_frames input: cap selector (0-7, see the target), split seed, stream
function ws(cap, seed, ...frames) {
  return Buffer.concat([Buffer.from([cap, seed]), ...frames]);
}

const T = 1, B = 2, C = 0, CLOSE = 8, PING = 9, PONG = 10;
const close = (code, reason = '') => {
  const b = Buffer.alloc(2); b.writeUInt16BE(code); return Buffer.concat([b, Buffer.from(reason)]);
};

// A signed name as README.md "Signed channel names" defines it, with the
// secrets fuzz_signed.c configures; byte 0 of a fuzz_signed input is the clock.
function signed(channel, kid, secret, expiry) {
  const mac = createHmac('sha256', secret).update(`v1.${kid}.${expiry}.${channel}`).digest('base64url');
  return `${channel}~v1.${kid}.${expiry}.${mac}`;
}
const clock = (c, s) => Buffer.concat([Buffer.from([c]), Buffer.from(s)]);

const seeds = {
  fuzz_ws_frames: {
    'rfc-hello': ws(5, 0, frame(T, 'Hello')),
    'rfc-hello-fragmented': ws(5, 3, frame(T, 'Hel', { fin: 0 }), frame(C, 'lo')),
    'rfc-ping-pong': ws(5, 7, frame(PING, 'Hello'), frame(PONG, 'Hello')),
    'binary-256': ws(5, 9, frame(B, Buffer.alloc(256, 0x41))),
    // 64-bit length form; only the header and the first bytes, to stay small
    'binary-65536-truncated': ws(7, 11, frame(B, Buffer.alloc(65536, 0x42)).subarray(0, 40)),
    'subscribe-command': ws(5, 1, frame(T, '{"type":"subscribe","req":1,"channel":"orders~v1.0.0.abc"}')),
    'interleaved-ping': ws(5, 5, frame(T, 'frag', { fin: 0 }), frame(PING, 'p'), frame(C, 'ment', { fin: 0 }), frame(C, 'ed')),
    'utf8-split-fragments': ws(5, 2, frame(T, Buffer.from([0xce, 0xba, 0xe1]), { fin: 0 }), frame(C, Buffer.from([0xbd, 0xb9, 0xcf, 0x83]))),
    'utf8-invalid': ws(5, 4, frame(T, Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80]))),
    'close-with-reason': ws(5, 6, frame(CLOSE, close(1000, 'bye')), frame(T, 'after close')),
    'close-len-1': ws(5, 0, frame(CLOSE, Buffer.from([3]))),
    'close-bad-code': ws(5, 0, frame(CLOSE, close(1005))),
    'unmasked': ws(5, 0, frame(T, 'Hello', { masked: 0 })),
    'rsv1': ws(5, 0, frame(T, 'x', { rsv: 4 })),
    'opcode-3': ws(5, 0, frame(3, 'x')),
    'ping-fragmented': ws(5, 0, frame(PING, 'x', { fin: 0 })),
    'ping-126': ws(5, 0, frame(PING, Buffer.alloc(126))),
    'len16-non-minimal': ws(5, 0, frame(B, 'abc', { lenForm: 16 })),
    'len64-non-minimal': ws(7, 0, frame(B, 'abc', { lenForm: 64 })),
    'len64-top-bit': ws(7, 0, frame(B, '', { lenForm: 64, len: 2n ** 63n + 1n })),
    'cont-without-start': ws(5, 0, frame(C, 'x')),
    'text-inside-open': ws(5, 0, frame(T, 'a', { fin: 0 }), frame(T, 'b')),
    'over-cap': ws(2, 0, frame(T, Buffer.alloc(17, 0x61))),
    'over-cap-fragments': ws(2, 8, frame(T, Buffer.alloc(10, 0x61), { fin: 0 }), frame(C, Buffer.alloc(10, 0x61))),
    'empty-messages': ws(0, 1, frame(T, ''), frame(B, ''), frame(T, '', { fin: 0 }), frame(C, '')),
  },
  fuzz_utf8: {
    'ascii': Buffer.concat([Buffer.from([3]), Buffer.from('{"type":"ping","req":3}')]),
    'kosme': Buffer.from([1, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5]),
    'boundaries': Buffer.from([2, 0x7f, 0xc2, 0x80, 0xdf, 0xbf, 0xe0, 0xa0, 0x80, 0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80, 0xef, 0xbf, 0xbf, 0xf0, 0x90, 0x80, 0x80, 0xf4, 0x8f, 0xbf, 0xbf]),
    'overlong': Buffer.from([0, 0xc0, 0xaf, 0xe0, 0x80, 0xaf, 0xf0, 0x80, 0x80, 0xaf]),
    'surrogate': Buffer.from([5, 0x61, 0xed, 0xa0, 0x80]),
    'above-max': Buffer.from([4, 0xf4, 0x90, 0x80, 0x80]),
    'truncated': Buffer.from([6, 0x61, 0x62, 0xe2, 0x82]),
    'lone-continuation': Buffer.from([7, 0x80, 0xbf]),
    'long-ascii-then-bad': Buffer.concat([Buffer.from([9]), Buffer.alloc(40, 0x61), Buffer.from([0xff])]),
  },
  fuzz_ws_handshake: {
    'rfc-request': Buffer.from('dGhlIHNhbXBsZSBub25jZQ==\n13\nwebsocket\nUpgrade'),
    'lists-and-case': Buffer.from(' dGhlIHNhbXBsZSBub25jZQ== \n 13\t\nh2c, WebSocket\nkeep-alive,  Upgrade'),
    'version-8': Buffer.from('dGhlIHNhbXBsZSBub25jZQ==\n8\nwebsocket\nUpgrade'),
    'key-15-bytes': Buffer.from('dGhlIHNhbXBsZSBub25j\n13\nwebsocket\nUpgrade'),
    'key-bad-bits': Buffer.from('dGhlIHNhbXBsZSBub25jZR==\n13\nwebsocket\nUpgrade'),
    'no-upgrade': Buffer.from('dGhlIHNhbXBsZSBub25jZQ==\n13\n\nkeep-alive'),
    'empty-elements': Buffer.from('AAAAAAAAAAAAAAAAAAAAAA==\n13\n,,websocket,,\n, upgrade ,'),
  },
  fuzz_signed: {
    'plain-channel': clock(1, 'orders'),
    'valid-kid0-never': clock(1, signed('orders', '0', 'fuzz-secret-0123456789', 0)),
    'valid-k1-expiry': clock(1, signed('user.42:inbox@eu', 'k1', 'another-secret-abcdef', 1732535000)),
    'expired': clock(2, signed('user.42:inbox@eu', 'k1', 'another-secret-abcdef', 1732535000)),
    'unknown-kid': clock(1, signed('orders', 'k9', 'another-secret-abcdef', 0)),
    'wrong-mac': clock(1, signed('orders', '0', 'not-the-secret-at-all', 0)),
    'leading-zero-expiry': clock(1, signed('orders', '0', 'fuzz-secret-0123456789', '01732535000')),
    'version-2': clock(1, signed('orders', '0', 'fuzz-secret-0123456789', 0).replace('~v1.', '~v2.')),
    'bad-byte': clock(1, 'ord ers'),
    'sign-round-trip-never': clock(4, 'a-b_c.d:e@f'),
  },
  // byte 0 drives how fuzz_http cuts the stream
  fuzz_http: {
    'get-healthz': Buffer.from('\x00GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
    'emit-post': Buffer.from('\x05POST /emit/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello', 'latin1'),
    'emit-chunked': Buffer.from('\x07POST /emit/orders HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'latin1'),
    'pipelined': Buffer.from('\x02GET /a HTTP/1.1\r\n\r\nGET /emit/x/hello%20world HTTP/1.1\r\n\r\nGET /b?c=d HTTP/1.0\r\n\r\n', 'latin1'),
    'ws-upgrade-then-frame': Buffer.concat([Buffer.from('\x03GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://a\r\n\r\n', 'latin1'), frame(T, 'Hello')]),
    'sse-last-event-id': Buffer.from('\x04GET /sse?channel=orders,17&channel=b HTTP/1.1\r\nLast-Event-ID: orders:42\r\nAuthorization: Bearer x\r\n\r\n', 'latin1'),
    'body-without-length': Buffer.from('\x01POST /emit/x HTTP/1.1\r\n\r\nabc', 'latin1'),
    'body-too-large': Buffer.from('\x01POST /emit/x HTTP/1.1\r\nContent-Length: 999999\r\n\r\n', 'latin1'),
    'url-too-long': Buffer.from('\x09GET /' + 'a'.repeat(600) + ' HTTP/1.1\r\n\r\n', 'latin1'),
    'many-headers': Buffer.from('\x0bGET / HTTP/1.1\r\n' + 'X-A: b\r\n'.repeat(20) + '\r\n', 'latin1'),
    'garbage': Buffer.from('\x00\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'latin1'),
    'browser-no-cors-post': Buffer.from('\x06POST /emit/priv HTTP/1.1\r\nHost: 127.0.0.1:26300\r\nOrigin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: empty\r\nContent-Length: 2\r\n\r\nhi', 'latin1'),
    'image-get-sec-fetch': Buffer.from('\x08GET /emit/priv/msg HTTP/1.1\r\nHost: localhost:26300\r\nsec-fetch-dest: image\r\nSEC-FETCH-SOMETHING-VERY-LONG-NAME: x\r\n\r\n', 'latin1'),
    'host-forms': Buffer.from('\x02GET /stats HTTP/1.1\r\nHost: [::1]:26300\r\n\r\nGET /stats HTTP/1.1\r\nHost: Evil.Example:80\r\n\r\nGET /stats HTTP/1.1\r\nHost: [::1\r\n\r\nGET /stats HTTP/1.1\r\nHost: a:b:c\r\n\r\nGET /stats HTTP/1.0\r\n\r\n', 'latin1'),
    'expect-continue': Buffer.from('\x0aPOST /emit/x HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhelloPOST /emit/y HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n', 'latin1'),
  },
  fuzz_batch: {
    'two-records': Buffer.from('orders 5\nhello\nuser.42:inbox 2\nhi\n'),
    'empty-message': Buffer.from('a 0\n\n'),
    'binary-message': Buffer.concat([Buffer.from('bin 3\n'), Buffer.from([0xff, 0x00, 0x0a]), Buffer.from('\n')]),
    'bad-channel': Buffer.from('bad channel 1\nx\n'),
    'short-length': Buffer.from('a 10\nabc\n'),
    'missing-lf': Buffer.from('a 3\nabcX'),
    'leading-zero': Buffer.from('a 03\nabc\n'),
    'empty-body': Buffer.alloc(0),
    'idempotency-keys': Buffer.from('orders 5 order-17:created\nhello\nnews 2\nhi\nuser.42:inbox 0 k\n\n'),
    'key-too-long': Buffer.from('a 1 ' + 'k'.repeat(65) + '\nx\n'),
    'key-with-space': Buffer.from('a 1 k k\nx\n'),
  },
  fuzz_command: {
    'subscribe': Buffer.from('{"type":"subscribe","req":1,"channel":"orders~v1.0.0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","since":1732530000000001}'),
    'unsubscribe': Buffer.from('{"type":"unsubscribe","req":2,"channel":"orders"}'),
    'ping': Buffer.from('{"type":"ping","req":3}'),
    'unknown-type': Buffer.from('{"type":"publish","req":4,"channel":"x"}'),
    'req-string': Buffer.from('{"type":"ping","req":"5"}'),
    'big-req': Buffer.from('{"type":"ping","req":9223372036854775807}'),
    'bad-channel': Buffer.from('{"type":"subscribe","req":6,"channel":"a b"}'),
    'not-json': Buffer.from('Hello-\u00b5@'),
    'array': Buffer.from('[1,2,3]'),
    'escaped-channel': Buffer.from('{"type":"unsubscribe","req":7,"channel":"or\\u0000ders"}'),
    'refresh': Buffer.from('{"type":"refresh","req":8,"channel":"orders~v1.k2.1732530005.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'),
    'refresh-no-channel': Buffer.from('{"type":"refresh","req":9}'),
    'refresh-since': Buffer.from('{"type":"refresh","req":10,"channel":"a","since":5}'),
  },
  fuzz_sseid: {
    'three-channels': Buffer.concat([Buffer.from([3]), Buffer.from('~1732530000000001..17')]),
    'one-channel': Buffer.concat([Buffer.from([1]), Buffer.from('~1732530000000001')]),
    'all-empty': Buffer.concat([Buffer.from([4]), Buffer.from('~...')]),
    'old-form': Buffer.concat([Buffer.from([1]), Buffer.from('orders:17')]),
    'too-many-fields': Buffer.concat([Buffer.from([2]), Buffer.from('~1.2.3')]),
    'twenty-digits': Buffer.concat([Buffer.from([1]), Buffer.from('~18446744073709551616')]),
    'leading-zeros': Buffer.concat([Buffer.from([2]), Buffer.from('~007.0')]),
  },
  fuzz_config: {
    'every-kind': Buffer.from('# comment\n[section]\nlisten = 127.0.0.1:8080\nemit = unix:/run/herald/emit.sock\nmax_queue_bytes = 1048576\npublic_channels = "news.*, public"\nlog_level = debug\n'),
    'unknown-key': Buffer.from('no_such_key = 1\n'),
    'bad-number': Buffer.from('max_connections = -5\n'),
    'no-equals': Buffer.from('listen 127.0.0.1:1\n'),
    'crlf-and-spaces': Buffer.from('  ping_interval_ms=25000  \r\n;x\r\n'),
    'non-loopback-emit': Buffer.from('emit = 0.0.0.0:26300\n'),
    'redis': Buffer.from('redis = redis://:pw@10.0.0.20:6379/2\nredis_timeout_ms = 3000\n'),
  },
  // first byte: 0 the redis address, 1 a published message, 2 a pub/sub name or entry id
  fuzz_redis: {
    'url-plain': Buffer.from('\x00redis://127.0.0.1:6379'),
    'url-auth-v6': Buffer.from('\x00redis://user:p%40ss@[::1]:7000/3'),
    'url-unix': Buffer.from('\x00unix:/run/redis/redis.sock'),
    'url-bad-port': Buffer.from('\x00redis://:a@b@h:0'),
    'msg-json': Buffer.from('\x011795952352453000 1795952352453\n{"a":1}'),
    'msg-empty': Buffer.from('\x015 0\n'),
    'msg-leading-zero': Buffer.from('\x0105 0\nx'),
    'pubsub': Buffer.from('\x02herald:{orders}:0'),
    'entry-id': Buffer.from('\x020-42'),
  },
  // first byte: 0 the redis_cluster seed list, 1 a CLUSTER SLOTS answer (RESP), 2 a MOVED/ASK error or a key
  fuzz_cluster: {
    'seeds-plain': Buffer.from('\x00127.0.0.1:7000,127.0.0.1:7001,node3'),
    'seeds-auth': Buffer.from('\x00redis://herald:p%2Cw@10.0.0.1:7000,[::1]:7001'),
    'seeds-bad': Buffer.from('\x00h1:7000,redis://:pw@h2:7000'),
    'slots-three': Buffer.from('\x01*3\r\n*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7101\r\n$3\r\nid1\r\n*4\r\n:5461\r\n:10922\r\n*3\r\n$0\r\n\r\n:7102\r\n$3\r\nid2\r\n*2\r\n$1\r\nh\r\n:7201\r\n*3\r\n:10923\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:7103\r\n'),
    'slots-overlap': Buffer.from('\x01*2\r\n*3\r\n:0\r\n:3\r\n*2\r\n$1\r\nh\r\n:1\r\n*3\r\n:3\r\n:4\r\n*2\r\n$1\r\ng\r\n:1\r\n'),
    'moved': Buffer.from('\x02MOVED 3999 127.0.0.1:6381'),
    'ask-v6': Buffer.from('\x02ASK 16383 ::1:7000'),
    'key-tag': Buffer.from('\x02herald:{orders}:id'),
  },
  fuzz_presence: {
    'added': Buffer.from('P42 a user-7\n{"name":"Ann"}'),
    'removed-max': Buffer.from('P18446744073709551615 r 9'),
    'quote': Buffer.from('P1 r a"b'),
    'leading-zero': Buffer.from('P01 a u\nnull'),
  },
  fuzz_secretfile: {
    'two-secrets': Buffer.from('t2:0123456789abcdef0123\nt1:fedcba9876543210fedc\n'),
    'crlf': Buffer.from('k1:aaaaaaaaaaaaaaaa\r\nk2:bbbbbbbbbbbbbbbb\r\n'),
    'trailing-tab-space': Buffer.from('secret-with-tab\t\nsecret-with-space \n\t \r\n'),
    'blank-lines-no-final-lf': Buffer.from('\n\n \t\n\r\nlast'),
    'cr-inside': Buffer.from('a\rb\r\r\n\r'),
    'nul-inside': Buffer.from('a\0b\n\0\n'),
  },
  fuzz_pusherapps: {
    'two-apps': Buffer.from('# apps\n1001:key-1:0123456789abcdef\r\n\n2:k.2:secret:with:colons \t\n'),
    'key-twice': Buffer.from('1:k:0123456789abcdef\n2:k:fedcba9876543210\n'),
    'short-secret': Buffer.from('1:k:0123456789abcdef\n2:k2:short\n'),
    'two-fields': Buffer.from('1:k\n'),
    'bad-key-byte': Buffer.from('1:k y:0123456789abcdef\n'),
    'longest': Buffer.from(`1:${'k'.repeat(64)}:${'s'.repeat(512)}\n`),
    'comments-only': Buffer.from('# none\n\n'),
  },
};

for (const [target, files] of Object.entries(seeds)) {
  const dir = join(here, 'corpus', target);
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
}
