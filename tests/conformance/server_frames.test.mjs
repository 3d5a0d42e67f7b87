// The server's own frames: what heraldd writes for answers and for emitted
// messages of every size class, checked byte by byte on the raw socket
// (RFC 6455 5.2: FIN, no RSV, never masked, minimal length encoding), and
// the opening handshake's answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, RawWs, parseHeaders } from './lib/raw.mjs';
import { useHeraldd, expectAlive } from './lib/conformance.mjs';

const ctx = useHeraldd();

function minimalForm(len) { return len <= 125 ? 7 : len <= 0xffff ? 16 : 64; }

// Check a server frame's header bytes against its payload.
function checkHeader(f) {
  assert.equal(f.fin, 1, 'FIN set');
  assert.equal(f.rsv, 0, 'no RSV bits');
  assert.equal(f.masked, false, 'never masked');
  assert.equal(f.lenForm, minimalForm(f.len), `minimal length form for ${f.len}`);
  const h = f.header;
  assert.equal(h.length, { 7: 2, 16: 4, 64: 10 }[f.lenForm]);
  if (f.lenForm === 7) assert.equal(h[1], f.len);
  if (f.lenForm === 16) { assert.equal(h[1], 126); assert.equal(h.readUInt16BE(2), f.len); }
  if (f.lenForm === 64) { assert.equal(h[1], 127); assert.equal(h.readBigUInt64BE(2), BigInt(f.len)); }
  assert.equal(f.payload.length, f.len);
}

let chSeq = 0;
async function subscribed() {
  const channel = `conf.${process.pid}.${chSeq++}`;
  const ws = await ctx.connect();
  ws.sendCommand({ type: 'subscribe', req: 1, channel: ctx.hd.sign(channel) });
  const f = await ws.next();
  checkHeader(f);
  const m = JSON.parse(f.payload);
  assert.equal(m.type, 'subscribed', JSON.stringify(m));
  assert.equal(m.channel, channel);
  return { ws, channel };
}

// Emit `data` and return the frame that carried it.
async function emitAndReceive(ws, channel, data) {
  const r = await ctx.hd.emit(channel, data);
  assert.equal(r.subscribers, 1);
  const f = await ws.next(15000);
  assert.ok(f, 'connection closed before the message');
  assert.equal(f.op, OP.TEXT);
  checkHeader(f);
  const m = JSON.parse(f.payload.toString('utf8'));
  assert.equal(m.type, 'message');
  assert.equal(m.channel, channel);
  assert.equal(m.id, r.id);
  return { f, m };
}

test('answers to commands are minimal, unmasked, final text frames', async () => {
  const ws = await ctx.connect();
  try {
    ws.sendCommand({ type: 'ping', req: 42 });
    const f = await ws.next();
    assert.equal(f.op, OP.TEXT);
    checkHeader(f);
    assert.deepEqual(JSON.parse(f.payload), { type: 'pong', req: 42 });
  } finally { ws.destroy(); }
});

for (const size of [0, 125, 126, 65535, 65536, 1 << 20]) {
  test(`an emitted message of ${size} bytes arrives in one exact frame`, async () => {
    const { ws, channel } = await subscribed();
    try {
      const data = 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(size / 26) + 1).slice(0, size);
      const { m } = await emitAndReceive(ws, channel, data);
      assert.equal(m.data.length, size);
      assert.ok(m.data === data, 'data is exactly what was emitted');
      assert.equal(m.encoding, undefined);
    } finally { ws.destroy(); }
  });
}

// Frame payload lengths exactly at the length-encoding boundaries: a probe
// message tells the JSON overhead, then the data is sized to hit each one.
for (const frameLen of [125, 126, 127, 65535, 65536, 65537]) {
  test(`a frame whose payload is exactly ${frameLen} bytes has the right header`, async () => {
    const { ws, channel } = await subscribed();
    try {
      const probe = await emitAndReceive(ws, channel, 'x');
      const overhead = probe.f.len - 1;
      const { f, m } = await emitAndReceive(ws, channel, 'y'.repeat(frameLen - overhead));
      if (String(m.id).length === String(probe.m.id).length) assert.equal(f.len, frameLen);
    } finally { ws.destroy(); }
  });
}

test('a message that is not UTF-8 arrives base64-encoded in a text frame', async () => {
  const { ws, channel } = await subscribed();
  try {
    const { m } = await emitAndReceive(ws, channel, Buffer.from([0xff, 0xfe, 0x00, 0xc0]));
    assert.equal(m.encoding, 'base64');
    assert.deepEqual(Buffer.from(m.data, 'base64'), Buffer.from([0xff, 0xfe, 0x00, 0xc0]));
  } finally { ws.destroy(); }
});

test('messages keep their order and the connection stays usable', async () => {
  const { ws, channel } = await subscribed();
  try {
    let last = 0;
    for (let i = 0; i < 20; i++) {
      const { m } = await emitAndReceive(ws, channel, `n${i}`);
      assert.equal(m.data, `n${i}`);
      assert.ok(m.id > last);
      last = m.id;
    }
    await expectAlive(ws);
  } finally { ws.destroy(); }
});

// ---- handshake (RFC 6455 4.2) ----------------------------------------------

test('handshake: the accept key is SHA-1 of key + GUID (checked by the client)', async () => {
  const ws = await ctx.connect();
  ws.destroy();
});

test('handshake: version 8 is refused with 426 and Sec-WebSocket-Version: 13', async () => {
  const r = await RawWs.handshake(ctx.hd.port, { headers: { 'Sec-WebSocket-Version': '8' } });
  r.sock.destroy();
  assert.equal(r.status, 426);
  assert.equal(parseHeaders(r.head)['sec-websocket-version'], '13');
});

test('handshake: a missing key is refused with 400', async () => {
  const r = await RawWs.handshake(ctx.hd.port, { headers: { 'Sec-WebSocket-Key': null } });
  r.sock.destroy();
  assert.equal(r.status, 400);
});

test('handshake: a key that is not 16 bytes of base64 is refused with 400', async () => {
  const r = await RawWs.handshake(ctx.hd.port, { headers: { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZQ==' } });
  r.sock.destroy();
  assert.equal(r.status, 400);
});

test('handshake: Connection and Upgrade token lists, any case, are accepted', async () => {
  const ws = await RawWs.connect(ctx.hd.port, { headers: { Upgrade: 'WebSocket', Connection: 'keep-alive, Upgrade' } });
  try { await expectAlive(ws); } finally { ws.destroy(); }
});
