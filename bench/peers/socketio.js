// The stack Herald replaces, as the 2013 prototype had it: a socket.io server
// for the browsers and an Express app on a loopback port whose route
// GET /emit/:id/:message broadcasts with io.emit(id, message).
// With --redis URL it is one node of a socket.io cluster: the broadcast goes
// to the other nodes through @socket.io/redis-adapter (ioredis), the way a
// socket.io application runs several processes.
// Usage: node socketio.js [--io-port 8080] [--emit-port 26300] [--host 127.0.0.1]
//                         [--redis redis://127.0.0.1:6379]
'use strict';
const http = require('http');
const express = require('express');
const { Server } = require('socket.io');
const { flag } = require('./args');

const host = flag('host', '127.0.0.1');
const ioPort = +flag('io-port', 8080);
const emitPort = +flag('emit-port', 26300);
const redisUrl = flag('redis', '');

const ioServer = http.createServer();
const io = new Server(ioServer, { serveClient: false, maxHttpBufferSize: 4096 });

// Resolves once the adapter's subscriptions are in place: a PING on the
// subscriber connection is answered after the PSUBSCRIBE queued before it.
let adapterReady = Promise.resolve();
if (redisUrl) {
  const Redis = require('ioredis');
  const { createAdapter } = require('@socket.io/redis-adapter');
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
  adapterReady = sub.ping();
}

const app = express();
app.get('/emit/:id/:message', (req, res) => {
  io.emit(req.params.id, req.params.message);
  res.send('OK');
});
app.get('/healthz', (req, res) => res.send('ok'));

adapterReady.then(() => ioServer.listen(ioPort, host, () => {
  app.listen(emitPort, host, () => console.log(`listening io=${host}:${ioPort} emit=${host}:${emitPort}`));
}));
process.on('SIGTERM', () => process.exit(0));
