// Autobahn 1.x (payload lengths), 3.x (reserved bits), 4.x (reserved
// opcodes), 9.x-like limits and 10.x (auto-fragmentation tolerance), as they
// apply to heraldd: clients send only small JSON commands in text frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, frame, command, fragments } from './lib/raw.mjs';
import { useHeraldd, expectAlive, expectAnswer, expectClose, violation, CAP } from './lib/conformance.mjs';

const ctx = useHeraldd();
let req = 1000;

// 1.1.x: text messages of these exact payload lengths, as ping commands
// padded with JSON whitespace, are answered by a pong.
for (const size of [30, 125, 126, 127, 128, 1000, 4095, CAP]) {
  test(`1.1 text command of ${size} bytes is answered`, async () => {
    const ws = await ctx.connect();
    try {
      const r = req++;
      ws.send(frame(OP.TEXT, command({ type: 'ping', req: r }, size)));
      const m = await ws.json();
      assert.equal(m.type, 'pong');
      assert.equal(m.req, r);
    } finally { ws.destroy(); }
  });
}

test('1.1.1 empty text message is answered with an error, connection stays open', async () => {
  const ws = await ctx.connect();
  try {
    ws.send(frame(OP.TEXT, ''));
    const m = await expectAnswer(ws);
    assert.equal(m.type, 'error');
    await expectAlive(ws);
  } finally { ws.destroy(); }
});

test('1.1 text commands chopped into 1-byte writes are answered', async () => {
  const ws = await ctx.connect();
  try {
    await ws.sendChopped(Buffer.concat([frame(OP.TEXT, command({ type: 'ping', req: 7 }, 300)),
      frame(OP.TEXT, command({ type: 'ping', req: 8 }, 125))]), 1);
    assert.equal((await ws.json()).req, 7);
    assert.equal((await ws.json()).req, 8);
  } finally { ws.destroy(); }
});

// 9.x-like: heraldd caps client messages at max_client_message_bytes.
for (const size of [CAP + 1, 65535, 65536]) {
  test(`9.1 text message of ${size} bytes (over the ${CAP}-byte cap) closes 1009`, async () => {
    await violation(ctx, frame(OP.TEXT, Buffer.alloc(size, 0x20)), 1009);
  });
}

test('9.1 a declared length of 2^62 closes 1009 from the header alone', async () => {
  await violation(ctx, frame(OP.TEXT, Buffer.alloc(0), { len: 2n ** 62n }).subarray(0, 14), 1009);
});

test('9.1 fragments summing over the cap close 1009', async () => {
  const half = Buffer.alloc(CAP / 2 + 1, 0x20);
  await violation(ctx, [frame(OP.TEXT, half, { fin: 0 }), frame(OP.CONT, half)], 1009);
});

test('9.1 fragments summing to exactly the cap are accepted', async () => {
  const ws = await ctx.connect();
  try {
    const cmd = command({ type: 'ping', req: 9 }, CAP);
    ws.send(fragments(OP.TEXT, cmd, 1000));
    assert.equal((await ws.json()).req, 9);
  } finally { ws.destroy(); }
});

// 1.2.x: heraldd's protocol is JSON text; a binary message is data it does
// not accept (RFC 6455 7.4.1, 1003), whatever its length.
for (const size of [0, 125, 126]) {
  test(`1.2 binary message of ${size} bytes closes 1003`, async () => {
    await violation(ctx, frame(OP.BINARY, Buffer.alloc(size, 0xfe)), 1003);
  });
}

test('1.x unmasked client frame closes 1002', async () => {
  await violation(ctx, frame(OP.TEXT, command({ type: 'ping', req: 1 }), { mask: false }), 1002);
});

test('1.x non-minimal 16-bit length closes 1002', async () => {
  await violation(ctx, frame(OP.TEXT, command({ type: 'ping', req: 1 }), { lenForm: 16 }), 1002);
});

test('1.x non-minimal 64-bit length closes 1002', async () => {
  await violation(ctx, frame(OP.TEXT, command({ type: 'ping', req: 1 }, 200), { lenForm: 64 }), 1002);
});

test('1.x 64-bit length with the top bit set closes 1002', async () => {
  await violation(ctx, frame(OP.TEXT, Buffer.alloc(0), { len: 2n ** 63n + 5n }).subarray(0, 14), 1002);
});

// 3.x: no extension is negotiated, so any RSV bit is a protocol error.
const rsvCases = [
  [1, OP.TEXT], [2, OP.TEXT], [3, OP.TEXT], [4, OP.TEXT], [5, OP.BINARY], [6, OP.PING], [7, OP.CLOSE],
];
for (const [rsv, op] of rsvCases) {
  test(`3.x RSV=${rsv} on opcode ${op} closes 1002`, async () => {
    const payload = op === OP.CLOSE ? Buffer.from([3, 0xe8]) : command({ type: 'ping', req: 1 });
    await violation(ctx, frame(op, payload, { rsv }), 1002);
  });
}

test('3.2 a valid command, then RSV=2: the command is answered, then 1002', async () => {
  const ws = await ctx.connect();
  try {
    ws.send(frame(OP.TEXT, command({ type: 'ping', req: 32 })), frame(OP.TEXT, 'x', { rsv: 2 }),
      frame(OP.PING, ''));
    assert.equal((await ws.json()).req, 32);
    await expectClose(ws, 1002);
  } finally { ws.destroy(); }
});

test('3.x RSV=1 chopped into 1-byte writes closes 1002', async () => {
  await violation(ctx, frame(OP.TEXT, command({ type: 'ping', req: 1 }), { rsv: 1 }), 1002, { chop: 1 });
});

// 4.x: reserved opcodes, empty and with a payload.
for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
  test(`4.x reserved opcode ${op} closes 1002`, async () => {
    await violation(ctx, frame(op, op % 2 ? 'reserved' : ''), 1002);
  });
}

test('4.1.3 a command, a reserved opcode, a ping: command answered, then 1002', async () => {
  const ws = await ctx.connect();
  try {
    ws.send(frame(OP.TEXT, command({ type: 'ping', req: 413 })), frame(5, ''), frame(OP.PING, ''));
    assert.equal((await ws.json()).req, 413);
    await expectClose(ws, 1002);
  } finally { ws.destroy(); }
});

// 10.x: the same command arriving in frames of any size is the same command.
for (const size of [1, 2, 3, 7, 64, 125, 126, 1000]) {
  test(`10.1 a ${CAP}-byte command in ${size}-byte fragments is answered`, async () => {
    const ws = await ctx.connect();
    try {
      ws.send(fragments(OP.TEXT, command({ type: 'ping', req: size }, CAP), size));
      const m = await ws.json();
      assert.equal(m.type, 'pong');
      assert.equal(m.req, size);
    } finally { ws.destroy(); }
  });
}

test('10.1 fragments written byte by byte are answered', async () => {
  const ws = await ctx.connect();
  try {
    await ws.sendChopped(Buffer.concat(fragments(OP.TEXT, command({ type: 'ping', req: 101 }, 500), 17)), 1);
    assert.equal((await ws.json()).req, 101);
  } finally { ws.destroy(); }
});
