// Two app servers (php-fpm pools with the extension), each emitting to its
// own heraldd node, the two nodes sharing channels through one redis-server,
// and nginx in front: one server block per app server, both proxying
// /herald/ to an upstream of the two nodes (README "Several servers").
// Run by tests/suites/85-demo-fpm.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { WebSocket } from 'ws';
import { top, extSo, startHeraldd, start, freePort, tempDir, until, tcpReady } from './lib.mjs';

const root = process.getuid() === 0;
let redis, dir, nginx;
const nodes = [], fpms = [], apps = [];

function render(tpl, vars) {
  return readFileSync(join(top, 'examples', tpl), 'utf8').replace(/@([A-Z_]+)@/g, (m, k) => {
    if (!(k in vars)) throw new Error(`${tpl}: no value for ${m}`);
    return vars[k];
  });
}

before(async () => {
  if (!existsSync(extSo)) throw new Error(`${extSo} is not built (scripts/build-ext)`);
  const rport = await freePort();
  redis = start('redis-server', ['--port', String(rport), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await until(() => tcpReady(rport), 5000, 'redis-server');
  nodes.push(await startHeraldd({ extra: { redis: `redis://127.0.0.1:${rport}` } }));
  // the same secret on every node: a name PHP signs is good on any of them
  nodes.push(await startHeraldd({ extra: { redis: `redis://127.0.0.1:${rport}`, secret_file: nodes[0].secretFile } }));
  dir = tempDir('fpm-cluster');
  const p = dir.path;
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(p, d));
  let servers = '';
  for (const [i, node] of nodes.entries()) {
    const app = join(p, 'app' + i);
    mkdirSync(join(app, 'sessions'), { recursive: true });
    const sock = join(app, 'php-fpm.sock');
    // workers as this account (root here runs them with -R): the www-data
    // setup is fpm.demo.mjs's subject, not this test's
    writeFileSync(join(app, 'php-fpm.conf'), render('php-fpm.conf.in', {
      USER: userInfo().username, PREFIX: app, FPM_SOCKET: sock, EMIT: `unix://${node.emitSock}`, SECRET_FILE: nodes[0].secretFile,
    }));
    const fpm = start('php-fpm8.2', ['-n', '-d', `extension=${extSo}`, '-F', '-y', join(app, 'php-fpm.conf'), '-p', app, ...(root ? ['-R'] : [])]);
    fpms.push(fpm);
    await until(() => { if (fpm.exitCode !== null) throw new Error('php-fpm exited: ' + fpm.log); return existsSync(sock); }, 10000, 'php-fpm');
    const port = await freePort();
    apps.push(`http://127.0.0.1:${port}`);
    servers += `
    server {
        listen 127.0.0.1:${port};
        root ${join(top, 'examples/demo/public')};
        location ^~ /herald/ {
            proxy_pass http://heraldd/;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
        }
        location ~ \\.(js|css)$ { try_files $uri =404; }
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root/index.php;
            fastcgi_param SCRIPT_NAME /index.php;
            fastcgi_param HERALD_PUBLIC_URL ws://$http_host/herald;
            fastcgi_pass unix:${sock};
        }
    }`;
  }
  writeFileSync(join(p, 'nginx.conf'), `${root ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${p}/client_body;
    proxy_temp_path ${p}/proxy;
    fastcgi_temp_path ${p}/fastcgi;
    uwsgi_temp_path ${p}/uwsgi;
    scgi_temp_path ${p}/scgi;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    upstream heraldd {
        server 127.0.0.1:${nodes[0].port} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:${nodes[1].port} max_fails=1 fail_timeout=5s;
    }
${servers}
}
`);
  nginx = start('nginx', ['-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'nginx-error.log')]);
  await until(async () => { if (nginx.exitCode !== null) throw new Error('nginx exited: ' + nginx.log); return tcpReady(Number(apps[1].split(':')[2])); }, 10000, 'nginx');
});

after(async () => {
  await nginx?.stop();
  for (const f of fpms) await f.stop();
  for (const n of nodes) await n.stop();
  await redis?.stop();
  dir?.remove();
});

async function login(base, user) {
  const r = await fetch(base + '/login', { method: 'POST', redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=' + user });
  assert.equal(r.status, 303);
  return r.headers.get('set-cookie').split(';')[0];
}

async function subscriber(url, channel) {
  const ws = new WebSocket(url);
  const got = [];
  ws.on('message', (b) => got.push(JSON.parse(b.toString())));
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  ws.send(JSON.stringify({ type: 'subscribe', req: 1, channel }));
  await until(() => got.some((m) => m.type === 'subscribed'), 5000, 'subscribed');
  return { ws, messages: () => got.filter((m) => m.type === 'message') };
}

test('fpm_cluster_an_emit_from_php_on_either_app_server_reaches_browsers_on_both_nodes', async () => {
  const cookies = [await login(apps[0], 'erin'), await login(apps[1], 'erin')];
  const page = await (await fetch(apps[0] + '/', { headers: { cookie: cookies[0] } })).text();
  const cfg = JSON.parse(page.match(/window\.HERALD_DEMO = (.*);<\/script>/)[1]);
  const signed = cfg.channels[2]; // user.erin, signed by PHP
  // one browser on each node, and one through nginx's upstream
  const subs = [await subscriber(`ws://127.0.0.1:${nodes[0].port}/ws`, signed),
    await subscriber(`ws://127.0.0.1:${nodes[1].port}/ws`, signed),
    await subscriber(`${cfg.url}/ws`, signed)];
  const ids = [];
  for (const [i, base] of apps.entries()) {
    const r = await fetch(base + '/emit/user.erin/' + encodeURIComponent('from app ' + i), { headers: { cookie: cookies[i] } });
    assert.equal(r.status, 200, await r.clone().text());
    ids.push((await r.json()).id);
  }
  assert.equal(ids[1], ids[0] + 1, 'one sequence of ids across the app servers');
  for (const s of subs) {
    await until(() => s.messages().length === 2, 5000, 'both messages');
    assert.deepEqual(s.messages().map((m) => [m.id, m.data]), [[ids[0], 'from app 0'], [ids[1], 'from app 1']]);
    s.ws.close();
  }
});
