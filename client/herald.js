/*@herald:head*/
// herald.js — browser client for heraldd. Dependency-free; one source built
// two ways by client/build.sh (classic script → window.Herald, ES module →
// default export). Protocol: README.md "Protocol".

const Herald = (() => {
  const WS_OPEN = 1;
  const STATES = ['connecting', 'open', 'reconnecting', 'closed'];

  // A signed name is "<channel>~v1.…"; the server's messages carry <channel>.
  const plainName = (signed) => String(signed).split('~')[0];

  // base64 → bytes, for messages heraldd had to send with "encoding":"base64".
  const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

  // Turn the URL the page gave into the WebSocket and SSE endpoints.
  function endpoints(url) {
    const u = new URL(url, typeof location === 'object' ? location.href : undefined);
    const secure = u.protocol === 'wss:' || u.protocol === 'https:';
    const path = u.pathname.replace(/\/(ws|sse)?$/, '');
    return {
      ws: (secure ? 'wss://' : 'ws://') + u.host + path + '/ws',
      sse: (secure ? 'https://' : 'http://') + u.host + path + '/sse',
    };
  }

  class Client {
    constructor(url, opts = {}) {
      this.url = endpoints(url);
      this.opts = {
        transports: ['ws', 'sse'],
        pingIntervalMs: 25000,
        pongTimeoutMs: 10000,
        reconnectBaseMs: 500,
        reconnectMaxMs: 30000,
        ...opts,
      };
      this.transports = this.opts.transports.filter((t) =>
        t === 'ws' ? typeof WebSocket === 'function' : t === 'sse' && typeof EventSource === 'function');
      this.tix = 0;          // index of the transport in use
      this.chans = new Map(); // plain name → {signed, last, subs:Set, req}
      this.handlers = {};
      this.req = 0;
      this.attempt = 0;
      this.state = 'connecting';
      this.conn = null;
      this.opened = false;
      // Connect after the caller had a chance to add listeners.
      queueMicrotask(() => this.connect());
    }

    // Listen to 'state', 'subscribed', 'gap', 'error' or 'message'; returns an unsubscriber.
    on(ev, fn) {
      (this.handlers[ev] ||= new Set()).add(fn);
      return () => this.handlers[ev].delete(fn);
    }

    emit(ev, arg) {
      const hs = this.handlers[ev];
      if (hs) for (const fn of [...hs]) { try { fn(arg); } catch (e) { setTimeout(() => { throw e; }); } }
      return !!(hs && hs.size);
    }

    setState(s) {
      if (this.state !== s) { this.state = s; this.emit('state', s); }
    }

    // Subscribe with a signed (or public) name; data arrives as fn(data, meta).
    subscribe(signed, fn, o = {}) {
      const name = plainName(signed);
      let ch = this.chans.get(name);
      const sub = { fn, json: !!o.json, onError: o.onError, channel: name };
      if (!ch) {
        ch = { name, signed, last: o.since, subs: new Set() };
        this.chans.set(name, ch);
        this.sendSubscribe(ch);
      } else if (ch.signed !== signed) {
        ch.signed = signed;
        this.sendSubscribe(ch);
      }
      ch.subs.add(sub);
      sub.unsubscribe = () => {
        if (!ch.subs.delete(sub) || ch.subs.size || this.chans.get(name) !== ch) return;
        this.chans.delete(name);
        if (this.conn && this.conn.ws && this.conn.ws.readyState === WS_OPEN) {
          this.send({ type: 'unsubscribe', req: ++this.req, channel: name });
        } else if (this.conn && 'es' in this.conn) this.sseRestart();
      };
      return sub;
    }

    close() {
      this.setState('closed');
      clearTimeout(this.retryTimer);
      this.drop();
    }

    // Tell the connection about a (re)subscription; resumes from the last id.
    sendSubscribe(ch) {
      if (this.conn && this.conn.ws) {
        if (this.conn.ws.readyState !== WS_OPEN) return; // sent on open
        ch.req = ++this.req;
        const cmd = { type: 'subscribe', req: ch.req, channel: ch.signed };
        if (ch.last != null) cmd.since = ch.last;
        this.send(cmd);
      } else if (this.conn && 'es' in this.conn) this.sseRestart();
    }

    send(obj) {
      try { this.conn.ws.send(JSON.stringify(obj)); } catch (e) { /* the close handler reconnects */ }
    }

    connect() {
      if (this.state === 'closed') return;
      const t = this.transports[this.tix % this.transports.length];
      if (!t) return this.fail({ code: 'no_transport', reason: 'neither WebSocket nor EventSource is available' });
      this.opened = false;
      if (t === 'ws') this.wsOpen(); else this.sseOpen();
    }

    wsOpen() {
      const ws = new WebSocket(this.url.ws);
      const conn = (this.conn = { ws });
      ws.onopen = () => {
        if (this.conn !== conn) return;
        this.up();
        for (const ch of this.chans.values()) this.sendSubscribe(ch);
        this.pinger();
      };
      ws.onmessage = (e) => {
        if (this.conn !== conn) return;
        clearTimeout(conn.deadline);
        conn.deadline = 0;
        let m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        this.handle(m);
      };
      ws.onclose = ws.onerror = () => { if (this.conn === conn) this.lost(); };
    }

    // Send a ping every pingIntervalMs; no answer within pongTimeoutMs means
    // the connection is dead even if the socket has not noticed yet.
    pinger() {
      const conn = this.conn;
      conn.pinger = setInterval(() => {
        this.send({ type: 'ping', req: ++this.req });
        if (!conn.deadline) conn.deadline = setTimeout(() => { if (this.conn === conn) this.lost(); }, this.opts.pongTimeoutMs);
      }, this.opts.pingIntervalMs);
    }

    sseUrl(chans) {
      const q = chans.map((ch) => 'channel=' + encodeURIComponent(ch.signed + (ch.last != null ? ',' + ch.last : '')));
      return this.url.sse + '?' + q.join('&');
    }

    sseOpen() {
      const chans = [...this.chans.values()];
      if (!chans.length) { this.conn = { es: null, idle: true }; return this.up(); }
      const es = new EventSource(this.sseUrl(chans));
      const conn = (this.conn = { es });
      es.onopen = () => { if (this.conn === conn) this.up(); };
      es.onmessage = (e) => {
        if (this.conn !== conn) return;
        let m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        this.handle(m);
      };
      es.onerror = () => {
        if (this.conn !== conn) return;
        // CLOSED means heraldd answered but refused (4xx); otherwise the
        // network failed and we reconnect ourselves, with fresh `since` ids.
        if (es.readyState === 2) this.sseRefused(chans);
        else this.lost();
      };
    }

    // The SSE stream refused its names: ask for each alone to learn which
    // and why, drop those, and reconnect with the rest.
    async sseRefused(chans) {
      const conn = this.conn;
      conn.es.close();
      conn.es = null;
      let bad = 0;
      await Promise.all(chans.map(async (ch) => {
        const ac = new AbortController();
        try {
          const r = await fetch(this.sseUrl([ch]), { signal: ac.signal, cache: 'no-store' });
          if (r.status >= 400 && r.status < 500) {
            bad++;
            const reason = (await r.text()).trim();
            const code = r.status === 403 ? (/expire/i.test(reason) ? 'expired' : 'forbidden') : 'bad_request';
            this.refuse(ch, { code, reason });
          }
        } catch (e) { /* network trouble: retried below */ }
        ac.abort();
      }));
      if (this.conn !== conn) return;
      if (bad) { this.conn = null; this.connect(); } else this.lost();
    }

    // A connection is up: reset the backoff and report the state.
    up() {
      this.attempt = 0;
      this.opened = true;
      this.setState('open');
    }

    sseRestart() {
      clearTimeout(this.sseTimer);
      this.sseTimer = setTimeout(() => {
        if (!this.conn || !('es' in this.conn)) return;
        this.drop();
        this.connect();
      });
    }

    // Close the current connection without triggering a reconnect.
    drop() {
      const c = this.conn;
      this.conn = null;
      if (!c) return;
      clearInterval(c.pinger);
      clearTimeout(c.deadline);
      if (c.ws) { c.ws.onclose = c.ws.onerror = c.ws.onmessage = () => {}; try { c.ws.close(); } catch (e) { /* already closed */ } }
      if (c.es) c.es.close();
    }

    // The connection failed or died: try the next transport if this one never
    // opened, and reconnect after an exponential backoff with full jitter.
    lost() {
      if (!this.opened) this.tix++;
      this.drop();
      if (this.state === 'closed') return;
      this.setState('reconnecting');
      const cap = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectBaseMs * 2 ** Math.min(this.attempt++, 20));
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.connect(), Math.random() * cap);
    }

    fail(err) {
      if (!this.emit('error', err)) console.warn('herald:', err.code, err.reason || '');
    }

    // A subscription was refused: report it to its callbacks and forget it.
    refuse(ch, err) {
      err = { channel: ch.name, ...err };
      if (this.chans.get(ch.name) === ch) this.chans.delete(ch.name);
      let told = false;
      for (const s of ch.subs) if (s.onError) { told = true; try { s.onError(err); } catch (e) { setTimeout(() => { throw e; }); } }
      if (!this.emit('error', err) && !told) console.warn('herald:', err.channel, err.code, err.reason || '');
    }

    handle(m) {
      if (m.type === 'message') {
        const ch = this.chans.get(m.channel);
        if (!ch || (ch.last != null && m.id <= ch.last)) return; // never twice
        ch.last = m.id;
        const meta = { channel: m.channel, id: m.id };
        const raw = m.encoding === 'base64' ? fromBase64(m.data) : m.data;
        for (const s of [...ch.subs]) {
          let data = raw;
          if (s.json && typeof raw === 'string') {
            try { data = JSON.parse(raw); } catch (e) {
              this.fail({ channel: m.channel, id: m.id, code: 'bad_json', reason: e.message });
              continue;
            }
          }
          try { s.fn(data, meta); } catch (e) { setTimeout(() => { throw e; }); }
        }
        this.emit('message', meta);
      } else if (m.type === 'subscribed') {
        const ch = this.chans.get(m.channel);
        if (!ch) return;
        if (m.resume === 'gap') {
          this.emit('gap', { channel: m.channel, since: ch.last, last: m.last });
          ch.last = m.last;
        } else if (ch.last == null && typeof m.last === 'number') ch.last = m.last;
        this.emit('subscribed', { channel: m.channel, last: m.last, resume: m.resume });
      } else if (m.type === 'error') {
        const ch = [...this.chans.values()].find((c) => c.req === m.req);
        if (ch) this.refuse(ch, { code: m.code, reason: m.reason });
        else this.fail({ code: m.code, reason: m.reason });
      }
    }
  }

  return {
    connect: (url, opts) => new Client(url, opts),
    STATES,
    version: '1',
  };
})();
/*@herald:tail*/
