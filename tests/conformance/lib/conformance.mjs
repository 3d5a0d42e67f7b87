// What every conformance file shares: one heraldd per file (started with the
// browser tests' helper, on free loopback ports, stopped by PID), and the
// assertions of an Autobahn-style case: "closed with code X", "still alive",
// "answered".
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { startHeraldd } from '../../browser/lib.mjs';
import { RawWs, OP, frame, closeCode, closeInfo } from './raw.mjs';

export const CAP = 4096;  // max_client_message_bytes the daemon is started with

// Start one heraldd for the calling test file; returns a getter object.
export function useHeraldd(extra = {}) {
  const ctx = {};
  before(async () => {
    ctx.hd = await startHeraldd({ extra: {
      max_client_message_bytes: CAP,
      max_emit_body_bytes: 4 << 20,
      max_queue_bytes: 32 << 20,
      ...extra,
    } });
  });
  after(async () => { if (ctx.hd) await ctx.hd.stop(); });
  ctx.connect = (opts) => RawWs.connect(ctx.hd.port, opts);
  return ctx;
}

let reqSeq = 1;

// The connection still works: a ping command is answered by its pong.
export async function expectAlive(ws) {
  const req = reqSeq++;
  ws.sendCommand({ type: 'ping', req });
  const m = await ws.json();
  assert.deepEqual({ type: m.type, req: m.req }, { type: 'pong', req }, JSON.stringify(m));
}

// The server answered a command (any JSON reply): the frame was accepted.
export async function expectAnswer(ws) {
  const m = await ws.json();
  assert.equal(typeof m.type, 'string');
  return m;
}

// The server sent a close frame with `code` (or one of several), then closed
// the TCP connection. We answer its close as a client should (RFC 6455
// 5.5.1). code null: a close frame with no status code.
export async function expectClose(ws, code) {
  const f = await ws.next();
  assert.ok(f, `connection dropped without a close frame (wanted ${code})`);
  assert.equal(f.op, OP.CLOSE, `expected a close frame with ${code}, got opcode ${f.op}: ${f.payload.subarray(0, 200)}`);
  assert.equal(f.masked, false, 'server frames are never masked');
  assert.equal(f.fin, 1);
  assert.ok(f.len !== 1 && f.len <= 125, 'close payload is 0 or 2-125 bytes');
  const got = closeCode(f);
  const want = Array.isArray(code) ? code : [code];
  assert.ok(want.includes(got), `close code ${got} ${closeInfo(f)}, wanted ${want.join(' or ')}`);
  ws.write(frame(OP.CLOSE, got ? f.payload.subarray(0, 2) : Buffer.alloc(0)));
  assert.ok(await ws.closedWithin(), 'server did not close the TCP connection after the close');
  return f;
}

// A case that must end the connection with `code`: connect, send, check.
export async function violation(ctx, bytes, code, { chop } = {}) {
  const ws = await ctx.connect();
  try {
    if (chop) await ws.sendChopped(Buffer.concat([bytes].flat()), chop);
    else ws.send(bytes);
    await expectClose(ws, code);
  } finally { ws.destroy(); }
}
