// Autobahn 6.x: UTF-8 handling of text messages. heraldd's commands are
// JSON, so a valid-UTF-8 text that is not a command is answered with an
// error (the frame was accepted); invalid UTF-8 closes 1007, split across
// fragments too, and as soon as the bad byte arrives (fail fast).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, frame, fragments } from './lib/raw.mjs';
import { useHeraldd, expectAlive, expectAnswer, expectClose, violation } from './lib/conformance.mjs';

const ctx = useHeraldd();
const B = (...a) => Buffer.from(a.flat());
const KOSME = B(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5);

// Families of Autobahn 6.x, valid ones: accepted whole, split at every byte
// into 2 fragments, and as 1-byte fragments.
const valid = {
  '6.2 Hello-µ@ßöäüàá-UTF-8!!': Buffer.from('Hello-µ@ßöäüàá-UTF-8!!'),
  '6.5 κόσμε': KOSME,
  '6.7 first sequence of each length': B(0x01, 0xc2, 0x80, 0xe0, 0xa0, 0x80, 0xf0, 0x90, 0x80, 0x80),
  '6.8 last sequence of each length (within Unicode)': B(0x7f, 0xdf, 0xbf, 0xef, 0xbf, 0xbf, 0xf4, 0x8f, 0xbf, 0xbf),
  '6.11 other boundaries U+D7FF U+E000 U+FFFD U+10FFFF': B(0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80, 0xef, 0xbf, 0xbd, 0xf4, 0x8f, 0xbf, 0xbf),
  '6.22 noncharacters U+FFFE U+FFFF U+1FFFE U+10FFFF': B(0xef, 0xbf, 0xbe, 0xef, 0xbf, 0xbf, 0xf0, 0x9f, 0xbf, 0xbe, 0xf4, 0x8f, 0xbf, 0xbf),
  '6.23 U+FFFD': B(0xef, 0xbf, 0xbd),
};

const invalid = {
  '6.3 κόσμε with a surrogate then "edited"': B([...KOSME], 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64),
  '6.10 U+110000 (above the maximum)': B(0xf4, 0x90, 0x80, 0x80),
  '6.10 five-byte form': B(0xf8, 0x88, 0x80, 0x80, 0x80),
  '6.10 six-byte form': B(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80),
  '6.12 lone continuation 0x80': B(0x80),
  '6.12 lone continuation 0xbf': B(0xbf),
  '6.12 continuations 80 bf 80 bf': B(0x80, 0xbf, 0x80, 0xbf),
  '6.13 lonely start C0 then space': B(0xc0, 0x20),
  '6.13 lonely start E0 then space': B(0xe0, 0x20),
  '6.13 lonely start F0 then space': B(0xf0, 0x20),
  '6.14 last byte missing, 2-byte': B(0xdf),
  '6.14 last byte missing, 3-byte': B(0xef, 0xbf),
  '6.14 last byte missing, 4-byte': B(0xf4, 0x8f, 0xbf),
  '6.15 incomplete sequences concatenated': B(0xc0, 0xe0, 0x80, 0xf0, 0x80, 0x80, 0xdf, 0xef, 0xbf),
  '6.16 impossible byte FE': B(0xfe),
  '6.16 impossible byte FF': B(0xff),
  '6.16 FE FE FF FF': B(0xfe, 0xfe, 0xff, 0xff),
  '6.17 overlong "/" 2-byte': B(0xc0, 0xaf),
  '6.17 overlong "/" 3-byte': B(0xe0, 0x80, 0xaf),
  '6.17 overlong "/" 4-byte': B(0xf0, 0x80, 0x80, 0xaf),
  '6.18 maximum overlong 2-byte': B(0xc1, 0xbf),
  '6.18 maximum overlong 3-byte': B(0xe0, 0x9f, 0xbf),
  '6.18 maximum overlong 4-byte': B(0xf0, 0x8f, 0xbf, 0xbf),
  '6.19 overlong NUL 2-byte': B(0xc0, 0x80),
  '6.19 overlong NUL 3-byte': B(0xe0, 0x80, 0x80),
  '6.20 single surrogate U+D800': B(0xed, 0xa0, 0x80),
  '6.20 single surrogate U+DB7F': B(0xed, 0xad, 0xbf),
  '6.20 single surrogate U+DC00': B(0xed, 0xb0, 0x80),
  '6.20 single surrogate U+DFFF': B(0xed, 0xbf, 0xbf),
  '6.21 paired surrogates U+D800 U+DC00': B(0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80),
  '6.21 paired surrogates U+DBFF U+DFFF': B(0xed, 0xaf, 0xbf, 0xed, 0xbf, 0xbf),
};

// Every way of sending one text: whole, 1-byte fragments, and each 2-way split.
function ways(text) {
  const out = [['whole', [frame(OP.TEXT, text)]], ['1-byte fragments', fragments(OP.TEXT, text, 1)]];
  for (let cut = 1; cut < text.length; cut++) {
    out.push([`split at ${cut}`, [frame(OP.TEXT, text.subarray(0, cut), { fin: 0 }), frame(OP.CONT, text.subarray(cut))]]);
  }
  return out;
}

for (const [name, text] of Object.entries(valid)) {
  test(`${name}: accepted whole and split at every byte`, async () => {
    const ws = await ctx.connect();
    try {
      for (const [how, frames] of ways(text)) {
        ws.send(frames);
        const m = await expectAnswer(ws);
        assert.equal(m.type, 'error', `${how}: a non-command text gets an error answer`);
      }
      await expectAlive(ws);
    } finally { ws.destroy(); }
  });
}

for (const [name, text] of Object.entries(invalid)) {
  test(`${name}: closes 1007`, () => violation(ctx, frame(OP.TEXT, text), 1007));
  test(`${name}: in 1-byte fragments closes 1007`, () => violation(ctx, fragments(OP.TEXT, text, 1), 1007));
}

// 6.6: each prefix of κόσμε; only those ending on a character boundary are text.
for (let n = 1; n <= KOSME.length; n++) {
  const prefix = KOSME.subarray(0, n);
  let ok = true;
  try { new TextDecoder('utf-8', { fatal: true }).decode(prefix); } catch { ok = false; }
  test(`6.6 κόσμε prefix of ${n} bytes ${ok ? 'is accepted' : 'closes 1007'}`, async () => {
    if (!ok) return violation(ctx, frame(OP.TEXT, prefix), 1007);
    const ws = await ctx.connect();
    try {
      ws.send(frame(OP.TEXT, prefix));
      assert.equal((await expectAnswer(ws)).type, 'error');
    } finally { ws.destroy(); }
  });
}

// 6.4: fail fast. The close must come while the message is still incomplete.
test('6.4.1 invalid fragment closes 1007 before the message is finished', async () => {
  const ws = await ctx.connect();
  try {
    ws.send(frame(OP.TEXT, KOSME, { fin: 0 }), frame(OP.CONT, B(0xf4, 0x90, 0x80, 0x80), { fin: 0 }));
    await expectClose(ws, 1007);  /* the final fragment is never sent */
  } finally { ws.destroy(); }
});

test('6.4.2 invalid bytes close 1007 before the frame is finished', async () => {
  const ws = await ctx.connect();
  try {
    const whole = frame(OP.TEXT, Buffer.concat([KOSME, B(0xf4, 0x90, 0x80, 0x80), Buffer.from('edited')]));
    ws.send(whole.subarray(0, 6 + KOSME.length + 4));  /* header + payload up to the bad bytes */
    await expectClose(ws, 1007);
  } finally { ws.destroy(); }
});

test('6.4.3 fail fast with the invalid sequence written byte by byte', async () => {
  const ws = await ctx.connect();
  try {
    await ws.sendChopped(Buffer.concat([frame(OP.TEXT, KOSME, { fin: 0 }),
      frame(OP.CONT, B(0xf4, 0x90, 0x80, 0x80), { fin: 0 })]), 1);
    await expectClose(ws, 1007);
  } finally { ws.destroy(); }
});

test('6.4.4 fail fast inside a frame declared longer than what was sent', async () => {
  const ws = await ctx.connect();
  try {
    const payload = Buffer.concat([Buffer.from('{"type":"ping","req":1,"x":"'), B(0xed, 0xa0, 0x80), Buffer.alloc(1000, 0x61)]);
    ws.send(frame(OP.TEXT, payload).subarray(0, 8 + 40));  /* 16-bit length form: 8-byte header */
    await expectClose(ws, 1007);
  } finally { ws.destroy(); }
});

test('6.1 three empty fragments make an empty text, answered with an error', async () => {
  const ws = await ctx.connect();
  try {
    ws.send(frame(OP.TEXT, '', { fin: 0 }), frame(OP.CONT, '', { fin: 0 }), frame(OP.CONT, ''));
    assert.equal((await expectAnswer(ws)).type, 'error');
    await expectAlive(ws);
  } finally { ws.destroy(); }
});
