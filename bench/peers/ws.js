// A plain broadcaster on the `ws` package, the lightest common node.js
// alternative: every connection on / receives every message as
// {"channel":..,"data":..}; GET /emit/:ch/:msg or POST /emit/:ch (raw body)
// on a loopback port publishes.
// Usage: node ws.js [--ws-port 8080] [--emit-port 26300] [--host 127.0.0.1]
//                   [--drop-every N]   (tests only: the first client misses
//                                       every Nth message, so a test can
//                                       check that loadgen counts losses)
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');
const { flag } = require('./args');

const host = flag('host', '127.0.0.1');
const wsPort = +flag('ws-port', 8080);
const emitPort = +flag('emit-port', 26300);
const dropEvery = +flag('drop-every', 0);
let sent = 0;

const wss = new WebSocketServer({ host, port: wsPort, maxPayload: 4096, clientTracking: true });

function broadcast(channel, data) {
  const text = JSON.stringify({ channel, data });
  let n = 0;
  const drop = dropEvery > 0 && ++sent % dropEvery === 0;
  for (const c of wss.clients) {
    if (drop && n === 0) {
      n++;
      continue;
    }
    if (c.readyState === WebSocket.OPEN) {
      c.send(text);
      n++;
    }
  }
  return n;
}

const emit = http.createServer((req, res) => {
  const parts = req.url.split('/');
  if (req.method === 'GET' && parts.length === 4 && parts[1] === 'emit') {
    let ch, msg;
    try {
      ch = decodeURIComponent(parts[2]);
      msg = decodeURIComponent(parts[3]);
    } catch (e) {
      res.writeHead(400).end('bad escape\n');
      return;
    }
    broadcast(ch, msg);
    res.end('OK');
  } else if (req.method === 'POST' && parts.length === 3 && parts[1] === 'emit') {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const n = broadcast(decodeURIComponent(parts[2]), Buffer.concat(chunks).toString());
      res.writeHead(202, { 'content-type': 'application/json' }).end(`{"subscribers":${n}}`);
    });
  } else if (req.url === '/healthz') {
    res.end('ok');
  } else {
    res.writeHead(404).end('unknown path\n');
  }
});

wss.on('listening', () => {
  emit.listen(emitPort, host, () => console.log(`listening ws=${host}:${wsPort} emit=${host}:${emitPort}`));
});
process.on('SIGTERM', () => process.exit(0));
