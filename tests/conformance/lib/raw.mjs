// A raw RFC 6455 client over a plain TCP socket, for conformance tests: it
// writes whatever bytes a test asks for (unmasked, reserved bits, bad
// lengths, chopped writes) and parses the server's frames strictly, keeping
// each frame's exact header so tests can check the server's encoding.
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const WAIT_MS = 4000;

// A client frame. opts: fin (1), rsv (0-7), mask (true), lenForm (7/16/64,
// default minimal), len (declared length, default the payload's), key.
export function frame(op, payload = Buffer.alloc(0), opts = {}) {
  const pl = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const fin = opts.fin ?? 1, rsv = opts.rsv ?? 0, masked = opts.mask ?? true;
  const len = BigInt(opts.len ?? pl.length);
  const form = opts.lenForm ?? (len <= 125n ? 7 : len <= 0xffffn ? 16 : 64);
  const m = masked ? 0x80 : 0;
  let h;
  if (form === 7) h = Buffer.from([0, m | Number(len)]);
  else if (form === 16) { h = Buffer.alloc(4); h[1] = m | 126; h.writeUInt16BE(Number(len), 2); }
  else { h = Buffer.alloc(10); h[1] = m | 127; h.writeBigUInt64BE(len, 2); }
  h[0] = (fin ? 0x80 : 0) | (rsv << 4) | op;
  if (!masked) return Buffer.concat([h, pl]);
  const key = opts.key ?? randomBytes(4);
  const body = Buffer.from(pl);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([h, key, body]);
}

// A close payload: code (2 bytes) and reason.
export function closePayload(code, reason = Buffer.alloc(0)) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.isBuffer(reason) ? reason : Buffer.from(reason)]);
}

// A JSON command padded with spaces (still valid JSON) to exactly `size`
// bytes when size is given.
export function command(obj, size) {
  let s = JSON.stringify(obj);
  if (size !== undefined) {
    if (size < s.length) throw new Error(`command needs ${s.length} bytes, asked for ${size}`);
    s = s.slice(0, -1) + ' '.repeat(size - s.length) + '}';
  }
  return Buffer.from(s);
}

// Split buf into frames of `size` bytes: first TEXT/BINARY, then CONT.
export function fragments(op, buf, size, opts = {}) {
  const out = [];
  for (let at = 0; at < buf.length || out.length === 0; at += size) {
    const last = at + size >= buf.length;
    out.push(frame(out.length ? OP.CONT : op, buf.subarray(at, at + size), { ...opts, fin: last ? 1 : 0 }));
  }
  return out;
}

export class RawWs {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.frames = [];
    this.waiters = [];
    this.ended = false;
    this.error = null;
    this.autoPong = true;
    this.endPromise = new Promise((r) => sock.once('close', () => { this.ended = true; r(); this.wake(); }));
    sock.on('error', (e) => { this.error = e; });
    sock.on('data', (d) => { this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d; this.parse(); });
  }

  // Open a TCP connection, send the upgrade request, check the 101 answer
  // (RFC 6455 4.1: status, Upgrade, Connection, Sec-WebSocket-Accept).
  static async connect(port, { path = '/ws', headers = {}, host = '127.0.0.1' } = {}) {
    const { sock, status, head, rest, key } = await RawWs.handshake(port, { path, headers, host });
    if (status !== 101) { sock.destroy(); throw new Error(`upgrade answered ${status}: ${head}`); }
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    const h = parseHeaders(head);
    if (h['sec-websocket-accept'] !== accept) throw new Error('bad Sec-WebSocket-Accept: ' + head);
    if (!/\bwebsocket\b/i.test(h.upgrade || '')) throw new Error('no Upgrade: websocket: ' + head);
    if (!/\bupgrade\b/i.test(h.connection || '')) throw new Error('no Connection: upgrade: ' + head);
    const ws = new RawWs(sock);
    sock.setNoDelay(true);
    if (rest.length) { ws.buf = rest; ws.parse(); }
    return ws;
  }

  // The raw handshake: returns the status, the response head and the bytes
  // after it. headers with value null are left out.
  static handshake(port, { path = '/ws', headers = {}, host = '127.0.0.1' } = {}) {
    const key = randomBytes(16).toString('base64');
    const all = { Host: `${host}:${port}`, Upgrade: 'websocket', Connection: 'Upgrade',
      'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13', ...headers };
    let req = `GET ${path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(all)) if (v !== null) req += `${k}: ${v}\r\n`;
    req += '\r\n';
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, host);
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => { sock.destroy(); reject(new Error('handshake timed out')); }, WAIT_MS);
      const onData = (d) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        sock.removeListener('data', onData);
        sock.pause();
        const head = buf.subarray(0, end).toString('latin1');
        const status = Number(head.split(' ')[1]);
        resolve({ sock, status, head, rest: buf.subarray(end + 4), key });
        process.nextTick(() => sock.resume());
      };
      sock.on('data', onData);
      sock.once('error', (e) => { clearTimeout(timer); reject(e); });
      sock.once('connect', () => sock.write(req));
    });
  }

  // Server frames: RFC 6455 5.1 says they are never masked; 5.2 that the
  // length uses the minimal form. A violation is recorded on the frame.
  parse() {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const len7 = b[1] & 0x7f;
      let hl = 2, len = len7, lenForm = 7;
      if (len7 === 126) { if (b.length < 4) return; len = b.readUInt16BE(2); hl = 4; lenForm = 16; }
      else if (len7 === 127) { if (b.length < 10) return; len = Number(b.readBigUInt64BE(2)); hl = 10; lenForm = 64; }
      const masked = !!(b[1] & 0x80);
      if (masked) hl += 4;
      if (b.length < hl + len) return;
      const f = {
        fin: b[0] >> 7, rsv: (b[0] >> 4) & 7, op: b[0] & 15, masked, len, lenForm,
        header: Buffer.from(b.subarray(0, hl)), payload: Buffer.from(b.subarray(hl, hl + len)),
      };
      this.buf = b.subarray(hl + len);
      if (f.op === OP.PING && this.autoPong) { this.write(frame(OP.PONG, f.payload)); continue; }
      this.frames.push(f);
      this.wake();
    }
  }

  wake() { const w = this.waiters; this.waiters = []; for (const fn of w) fn(); }

  write(buf) { if (!this.sock.destroyed) this.sock.write(buf); }

  send(...bufs) { this.write(Buffer.concat(bufs.flat())); }

  // Write bytes in pieces of `size`, each its own write (TCP chopping).
  async sendChopped(buf, size = 1) {
    for (let at = 0; at < buf.length; at += size) {
      this.write(buf.subarray(at, at + size));
      if (at % (size * 64) === 0) await new Promise((r) => setImmediate(r));
    }
  }

  // The next server frame, or null if the connection ended first.
  async next(ms = WAIT_MS) {
    const end = Date.now() + ms;
    while (this.frames.length === 0) {
      if (this.ended) return null;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no frame from the server within ${ms} ms`);
      await new Promise((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
    return this.frames.shift();
  }

  // The next text frame as JSON (fails on anything else).
  async json(ms) {
    const f = await this.next(ms);
    if (!f) throw new Error('connection closed while waiting for a JSON frame');
    if (f.op !== OP.TEXT) throw new Error(`expected a text frame, got opcode ${f.op} ${closeInfo(f)}`);
    return JSON.parse(f.payload.toString('utf8'));
  }

  sendCommand(obj, size) { this.send(frame(OP.TEXT, command(obj, size))); }

  // Resolves true when the server closed TCP within ms.
  async closedWithin(ms = WAIT_MS) {
    if (this.ended) return true;
    return Promise.race([this.endPromise.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);
  }

  destroy() { this.sock.destroy(); }
}

export function closeInfo(f) {
  if (!f || f.op !== OP.CLOSE) return '';
  return f.len >= 2 ? `(close ${f.payload.readUInt16BE(0)} ${f.payload.subarray(2)})` : '(close, no code)';
}

export function closeCode(f) {
  return f.len >= 2 ? f.payload.readUInt16BE(0) : null;
}

export function parseHeaders(head) {
  const h = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return h;
}
