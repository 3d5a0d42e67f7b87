// Autobahn 2.x (pings and pongs), 5.x (fragmentation) and 7.x (closing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, frame, command, closePayload, closeCode } from './lib/raw.mjs';
import { useHeraldd, expectAlive, expectClose, violation } from './lib/conformance.mjs';

const ctx = useHeraldd();

// Open a connection, run fn(ws), always drop the socket.
async function withWs(fn) {
  const ws = await ctx.connect();
  try { return await fn(ws); } finally { ws.destroy(); }
}

async function expectPong(ws, payload) {
  const f = await ws.next();
  assert.ok(f, 'connection closed instead of a pong');
  assert.equal(f.op, OP.PONG, `expected a pong, got opcode ${f.op}`);
  assert.equal(f.masked, false);
  assert.equal(f.fin, 1);
  assert.deepEqual(f.payload, Buffer.from(payload));
}

// ---- 2.x ----------------------------------------------------------------

test('2.1 ping without payload gets an empty pong', () => withWs(async (ws) => {
  ws.send(frame(OP.PING, ''));
  await expectPong(ws, '');
}));

test('2.2 ping with a text payload gets a pong echoing it', () => withWs(async (ws) => {
  ws.send(frame(OP.PING, 'Hello, world!'));
  await expectPong(ws, 'Hello, world!');
}));

test('2.3 ping with a binary payload gets a pong echoing it', () => withWs(async (ws) => {
  const b = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
  ws.send(frame(OP.PING, b));
  await expectPong(ws, b);
}));

test('2.4 ping with a 125-byte payload gets a pong echoing it', () => withWs(async (ws) => {
  const b = Buffer.alloc(125, 0xfe);
  ws.send(frame(OP.PING, b));
  await expectPong(ws, b);
}));

test('2.5 ping with a 126-byte payload closes 1002', () =>
  violation(ctx, frame(OP.PING, Buffer.alloc(126, 0xfe)), 1002));

test('2.6 ping of 125 bytes written byte by byte gets its pong', () => withWs(async (ws) => {
  const b = Buffer.alloc(125, 0x61);
  await ws.sendChopped(frame(OP.PING, b), 1);
  await expectPong(ws, b);
}));

test('2.7 unsolicited empty pong is ignored', () => withWs(async (ws) => {
  ws.send(frame(OP.PONG, ''));
  await expectAlive(ws);
}));

test('2.8 unsolicited pong with payload is ignored', () => withWs(async (ws) => {
  ws.send(frame(OP.PONG, 'unsolicited pong payload'));
  await expectAlive(ws);
}));

test('2.9 unsolicited pong, then ping: only the ping is answered', () => withWs(async (ws) => {
  ws.send(frame(OP.PONG, 'unsolicited'), frame(OP.PING, 'ping payload'));
  await expectPong(ws, 'ping payload');
  await expectAlive(ws);
}));

test('2.10 ten pings in one write get ten pongs, in order', () => withWs(async (ws) => {
  ws.send(Array.from({ length: 10 }, (_, i) => frame(OP.PING, `payload-${i}`)));
  for (let i = 0; i < 10; i++) await expectPong(ws, `payload-${i}`);
}));

test('2.11 ten pings written byte by byte get ten pongs, in order', () => withWs(async (ws) => {
  await ws.sendChopped(Buffer.concat(Array.from({ length: 10 }, (_, i) => frame(OP.PING, `payload-${i}`))), 1);
  for (let i = 0; i < 10; i++) await expectPong(ws, `payload-${i}`);
}));

test('2.x fragmented ping closes 1002', () =>
  violation(ctx, [frame(OP.PING, 'frag', { fin: 0 }), frame(OP.CONT, 'ment')], 1002));

test('2.x unmasked ping closes 1002', () =>
  violation(ctx, frame(OP.PING, 'x', { mask: false }), 1002));

// ---- 5.x ----------------------------------------------------------------

const cmd = (r) => command({ type: 'ping', req: r });

test('5.1 ping fragmented into 2 frames closes 1002', () =>
  violation(ctx, [frame(OP.PING, 'frag', { fin: 0 }), frame(OP.CONT, 'ment')], 1002));

test('5.2 pong fragmented into 2 frames closes 1002', () =>
  violation(ctx, [frame(OP.PONG, 'frag', { fin: 0 }), frame(OP.CONT, 'ment')], 1002));

test('5.3 a command in 2 fragments is answered', () => withWs(async (ws) => {
  const c = cmd(53);
  ws.send(frame(OP.TEXT, c.subarray(0, 5), { fin: 0 }), frame(OP.CONT, c.subarray(5)));
  assert.equal((await ws.json()).req, 53);
}));

test('5.4 a command in 2 fragments written byte by byte is answered', () => withWs(async (ws) => {
  const c = cmd(54);
  await ws.sendChopped(Buffer.concat([frame(OP.TEXT, c.subarray(0, 5), { fin: 0 }), frame(OP.CONT, c.subarray(5))]), 1);
  assert.equal((await ws.json()).req, 54);
}));

test('5.6 a ping between fragments is answered first, then the command', () => withWs(async (ws) => {
  const c = cmd(56);
  ws.send(frame(OP.TEXT, c.subarray(0, 5), { fin: 0 }), frame(OP.PING, 'in between'), frame(OP.CONT, c.subarray(5)));
  await expectPong(ws, 'in between');
  assert.equal((await ws.json()).req, 56);
}));

test('5.7 the same, written byte by byte', () => withWs(async (ws) => {
  const c = cmd(57);
  await ws.sendChopped(Buffer.concat([frame(OP.TEXT, c.subarray(0, 5), { fin: 0 }), frame(OP.PING, 'in between'),
    frame(OP.CONT, c.subarray(5))]), 1);
  await expectPong(ws, 'in between');
  assert.equal((await ws.json()).req, 57);
}));

test('5.8 the pong for a ping between fragments comes before the last fragment is sent', () => withWs(async (ws) => {
  const c = cmd(58);
  ws.send(frame(OP.TEXT, c.subarray(0, 5), { fin: 0 }), frame(OP.PING, 'now'));
  await expectPong(ws, 'now');
  ws.send(frame(OP.CONT, c.subarray(5)));
  assert.equal((await ws.json()).req, 58);
}));

test('5.9 continuation (FIN) without a message closes 1002', () =>
  violation(ctx, [frame(OP.CONT, 'fragment'), frame(OP.TEXT, cmd(1))], 1002));

test('5.11 continuation (no FIN) without a message closes 1002', () =>
  violation(ctx, [frame(OP.CONT, 'frag', { fin: 0 }), frame(OP.CONT, 'ment')], 1002));

test('5.12 continuation without a message, written byte by byte, closes 1002', () =>
  violation(ctx, [frame(OP.CONT, 'frag', { fin: 0 }), frame(OP.CONT, 'ment')], 1002, { chop: 1 }));

test('5.15 a new text message inside an open one closes 1002', () => withWs(async (ws) => {
  const c = cmd(515);
  ws.send(frame(OP.TEXT, c.subarray(0, 5), { fin: 0 }), frame(OP.CONT, c.subarray(5)),
    frame(OP.TEXT, 'frag', { fin: 0 }), frame(OP.TEXT, 'ment'));
  assert.equal((await ws.json()).req, 515);
  await expectClose(ws, 1002);
}));

test('5.16 continuation after a complete fragmented message closes 1002', () => withWs(async (ws) => {
  const c = cmd(516);
  ws.send(frame(OP.TEXT, c.subarray(0, 5), { fin: 0 }), frame(OP.CONT, c.subarray(5)), frame(OP.CONT, 'x'));
  assert.equal((await ws.json()).req, 516);
  await expectClose(ws, 1002);
}));

test('5.19 a command in 5 fragments with pings between: all pongs, then the answer', () => withWs(async (ws) => {
  const c = cmd(519);
  const n = 5, step = Math.ceil(c.length / n), parts = [];
  for (let i = 0; i < n; i++) {
    parts.push(frame(i ? OP.CONT : OP.TEXT, c.subarray(i * step, (i + 1) * step), { fin: i === n - 1 ? 1 : 0 }));
    if (i < n - 1) parts.push(frame(OP.PING, `pongme ${i}`));
  }
  ws.send(parts);
  for (let i = 0; i < n - 1; i++) await expectPong(ws, `pongme ${i}`);
  assert.equal((await ws.json()).req, 519);
}));

test('5.20 the same, written byte by byte', () => withWs(async (ws) => {
  const c = cmd(520);
  const parts = [frame(OP.TEXT, c.subarray(0, 4), { fin: 0 }), frame(OP.PING, 'a'),
    frame(OP.CONT, c.subarray(4, 9), { fin: 0 }), frame(OP.PONG, 'ignored'), frame(OP.PING, 'b'),
    frame(OP.CONT, c.subarray(9))];
  await ws.sendChopped(Buffer.concat(parts), 1);
  await expectPong(ws, 'a');
  await expectPong(ws, 'b');
  assert.equal((await ws.json()).req, 520);
}));

test('5.x empty fragments around a command are accepted', () => withWs(async (ws) => {
  ws.send(frame(OP.TEXT, '', { fin: 0 }), frame(OP.CONT, cmd(521), { fin: 0 }), frame(OP.CONT, ''));
  assert.equal((await ws.json()).req, 521);
}));

// ---- 7.x ----------------------------------------------------------------

// The server answers a client close with a close (RFC 6455 5.5.1), echoing
// the code or 1000, and then closes TCP.
test('7.1.1 close 1000 is answered with a close and TCP close', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000)));
  await expectClose(ws, 1000);
}));

test('7.1.2 a second close is ignored', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000)), frame(OP.CLOSE, closePayload(1001)));
  await expectClose(ws, 1000);
}));

test('7.1.3 a ping after close gets no pong', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000)), frame(OP.PING, 'after close'));
  await expectClose(ws, 1000);
}));

test('7.1.4 a command after close is ignored', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000)), frame(OP.TEXT, cmd(714)));
  await expectClose(ws, 1000);
  assert.equal(ws.frames.length, 0, 'nothing after the close frame');
}));

test('7.1.5 close in the middle of a fragmented message is answered', () => withWs(async (ws) => {
  ws.send(frame(OP.TEXT, 'frag', { fin: 0 }), frame(OP.CLOSE, closePayload(1000)), frame(OP.CONT, 'ment'));
  await expectClose(ws, 1000);
}));

test('7.1.6 garbage after close is ignored', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000)), Buffer.from([0xff, 0xff, 0x00, 0x01]));
  await expectClose(ws, 1000);
}));

test('7.3.1 close without payload is answered with a close', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, ''));
  await expectClose(ws, [null, 1000]);
}));

test('7.3.2 close with a 1-byte payload closes 1002', () =>
  violation(ctx, frame(OP.CLOSE, Buffer.from([0x03])), 1002));

test('7.3.4 close with code and reason is answered 1000', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000, 'Hello World!')));
  await expectClose(ws, 1000);
}));

test('7.3.5 close with a 123-byte reason (125 payload) is answered 1000', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000, Buffer.alloc(123, 0x2a))));
  await expectClose(ws, 1000);
}));

test('7.3.6 close with a 124-byte reason (126 payload) closes 1002', () =>
  violation(ctx, frame(OP.CLOSE, closePayload(1000, Buffer.alloc(124, 0x2a))), 1002));

test('7.5.1 close reason that is not UTF-8 closes 1007', () =>
  violation(ctx, frame(OP.CLOSE, closePayload(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83,
    0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64]))), 1007));

test('7.x close reason with valid UTF-8 is answered 1000', () => withWs(async (ws) => {
  ws.send(frame(OP.CLOSE, closePayload(1000, 'κόσμε')));
  await expectClose(ws, 1000);
}));

// RFC 6455 7.4: codes a peer may send; heraldd also accepts the IANA
// registered 1012-1014 (see daemon/ws.c ws_close_code_valid).
for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
  test(`7.7 valid close code ${code} is answered with a close`, () => withWs(async (ws) => {
    ws.send(frame(OP.CLOSE, closePayload(code)));
    const f = await expectClose(ws, [code, 1000]);
    assert.ok(closeCode(f) === code || closeCode(f) === 1000);
  }));
}

for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  test(`7.9 invalid close code ${code} closes 1002`, () =>
    violation(ctx, frame(OP.CLOSE, closePayload(code)), 1002));
}
