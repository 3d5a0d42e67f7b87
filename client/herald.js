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

  // Parse one server message and hand it to the client if its connection is current.
  const deliver = (h, c, text) => {
    if (h._conn !== c) return;
    let m;
    try { m = JSON.parse(text); } catch (e) { return; }
    h._handle(m);
  };

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

  // Several servers (README "Several servers"): every URL's endpoints, in an
  // order shuffled once per client (Fisher-Yates), so a fleet of pages given
  // the same list spreads over the nodes instead of all starting on the first.
  function endpointList(urls) {
    const list = [].concat(urls).map(endpoints);
    if (!list.length) throw new TypeError('herald: no URL given');
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
  }

  // One transport per kind, each {open, send, close} over a connection record
  // c = {t: transport, …}. The client speaks commands; what a command means
  // on the wire is the transport's business.
  const TRANSPORTS = {
    // WebSocket: commands are JSON text frames; pings detect a dead link.
    ws: {
      open(h, c) {
        const ws = (c.ws = new WebSocket(h._url.ws));
        ws.onopen = () => {
          if (h._conn !== c) return;
          h._up();
          for (const ch of h._chans.values()) h._resubscribe(ch, c);
          // Ping every pingIntervalMs; no answer within pongTimeoutMs means
          // the connection is dead even if the socket has not noticed yet.
          c.pinger = setInterval(() => {
            h._send({ type: 'ping', req: ++h._req });
            c.deadline ||= setTimeout(() => { if (h._conn === c) h._lost(); }, h._opts.pongTimeoutMs);
          }, h._opts.pingIntervalMs);
        };
        ws.onmessage = (e) => {
          clearTimeout(c.deadline);
          c.deadline = 0;
          deliver(h, c, e.data);
        };
        ws.onclose = ws.onerror = () => { if (h._conn === c) h._lost(); };
      },
      send(h, c, cmd) {
        if (c.ws.readyState !== WS_OPEN) return; // subscriptions are sent on open
        try { c.ws.send(JSON.stringify(cmd)); } catch (e) { /* the close handler reconnects */ }
      },
      close(c) {
        clearInterval(c.pinger);
        clearTimeout(c.deadline);
        c.ws.onclose = c.ws.onerror = c.ws.onmessage = () => {};
        try { c.ws.close(); } catch (e) { /* already closed */ }
      },
    },
    // SSE: the channel list is the URL, so a change of subscriptions reopens
    // the stream (once per turn of the event loop); pings are not needed.
    sse: {
      async open(h, c) {
        let chans = [...h._chans.values()];
        if (!chans.length) return h._up();
        await Promise.all(chans.map((ch) => h._renew(ch)));
        chans = [...h._chans.values()];
        if (h._conn !== c || !chans.length) return h._conn === c && h._up();
        const es = (c.es = new EventSource(h._sseUrl(chans)));
        es.onopen = () => { if (h._conn === c) h._up(); };
        es.onmessage = (e) => deliver(h, c, e.data);
        es.onerror = () => {
          if (h._conn !== c) return;
          // CLOSED means heraldd answered but refused (4xx); otherwise the
          // network failed and we reconnect ourselves, with fresh `since` ids.
          if (es.readyState === 2) h._sseRefused(chans);
          else h._lost();
        };
      },
      send(h, c, cmd) {
        if (cmd.type === 'ping' || c.restart) return;
        c.restart = setTimeout(() => {
          if (h._conn !== c) return;
          h._drop();
          h._connect();
        });
      },
      close(c) {
        clearTimeout(c.restart);
        if (c.es) c.es.close();
      },
    },
  };

  class Client {
    constructor(urls, opts = {}) {
      this._urls = endpointList(urls);
      this._uix = 0;          // index of the URL in use
      this._url = this._urls[0];
      this._fails = 0;        // attempts in a row that never opened
      this._opts = {
        transports: ['ws', 'sse'],
        pingIntervalMs: 25000,
        pongTimeoutMs: 10000,
        reconnectBaseMs: 500,
        reconnectMaxMs: 30000,
        ...opts,
      };
      this._transports = this._opts.transports.filter((t) =>
        t === 'ws' ? typeof WebSocket === 'function' : t === 'sse' && typeof EventSource === 'function');
      this._tix = 0;          // index of the transport in use
      this._chans = new Map(); // plain name → {name, signed, last, subs:Set, req}
      this._handlers = {};
      this._warned = new Set(); // channels a refusal was logged for
      this._req = 0;
      this._attempt = 0;
      this.state = 'connecting';
      this._conn = null;
      this._opened = false;
      // Connect after the caller had a chance to add listeners.
      queueMicrotask(() => this._connect());
    }

    // Listen to 'state', 'subscribed', 'gap', 'error' or 'message'; returns an unsubscriber.
    on(ev, fn) {
      (this._handlers[ev] ||= new Set()).add(fn);
      return () => this._handlers[ev].delete(fn);
    }

    _emit(ev, arg) {
      const hs = this._handlers[ev];
      if (hs) for (const fn of [...hs]) { try { fn(arg); } catch (e) { setTimeout(() => { throw e; }); } }
      return !!(hs && hs.size);
    }

    _setState(s) {
      if (this.state !== s) { this.state = s; this._emit('state', s); }
    }

    // Subscribe with a signed (or public) name; data arrives as fn(data, meta).
    subscribe(signed, fn, o = {}) {
      const name = plainName(signed);
      let ch = this._chans.get(name);
      const sub = { fn, json: !!o.json, onError: o.onError, channel: name };
      if (!ch) {
        ch = { name, signed, last: o.since, subs: new Set(), getName: o.getName || this._opts.getName };
        this._chans.set(name, ch);
        this._subscribe(ch);
      } else if (ch.signed !== signed) {
        ch.signed = signed;
        this._subscribe(ch);
      }
      ch.subs.add(sub);
      sub.unsubscribe = () => {
        if (!ch.subs.delete(sub) || ch.subs.size || this._chans.get(name) !== ch) return;
        this._chans.delete(name);
        this._send({ type: 'unsubscribe', req: ++this._req, channel: name });
      };
      return sub;
    }

    close() {
      this._setState('closed');
      clearTimeout(this._retryTimer);
      this._drop();
    }

    // Tell the connection about a (re)subscription; resumes from the last id.
    _subscribe(ch) {
      ch.req = ++this._req;
      const cmd = { type: 'subscribe', req: ch.req, channel: ch.signed };
      if (ch.last != null) cmd.since = ch.last;
      this._send(cmd);
    }

    // A fresh signed name from the page's getName, for a channel whose name
    // is stale (after a reconnect, on 'expiring'); false if it has none.
    async _renew(ch) {
      if (!ch.stale || !ch.getName) return false;
      try {
        const name = await ch.getName(ch.name);
        if (plainName(name) !== ch.name) throw new Error('getName gave a name for another channel');
        ch.signed = name;
        ch.stale = false;
        return true;
      } catch (e) {
        this._fail({ channel: ch.name, code: 'get_name_failed', reason: String(e && e.message || e) });
        return false;
      }
    }

    // Subscribe again on connection c (after a reconnect, or when heraldd
    // ended the subscription), with a fresh name first if one is needed.
    async _resubscribe(ch, c) {
      await this._renew(ch);
      if (this._conn === c && this._chans.get(ch.name) === ch) this._subscribe(ch);
    }

    _send(cmd) {
      const c = this._conn;
      if (c) c.t.send(this, c, cmd);
    }

    _connect() {
      if (this.state === 'closed') return;
      const t = this._transports[this._tix % this._transports.length];
      if (!t) return this._fail({ code: 'no_transport', reason: 'neither WebSocket nor EventSource is available' });
      this._opened = false;
      const c = (this._conn = { t: TRANSPORTS[t] });
      c.t.open(this, c);
    }

    _sseUrl(chans) {
      const q = chans.map((ch) => 'channel=' + encodeURIComponent(ch.signed + (ch.last != null ? ',' + ch.last : '')));
      return this._url.sse + '?' + q.join('&');
    }

    // The SSE stream refused its names: ask for each alone to learn which
    // and why, drop those, and reconnect with the rest.
    async _sseRefused(chans) {
      const c = this._conn;
      c.es.close();
      c.es = null;
      let bad = 0;
      await Promise.all(chans.map(async (ch) => {
        const ac = new AbortController();
        try {
          const r = await fetch(this._sseUrl([ch]), { signal: ac.signal, cache: 'no-store' });
          if (r.status >= 400 && r.status < 500) {
            bad++;
            const reason = (await r.text()).trim();
            const code = r.status === 403 ? (/expire/i.test(reason) ? 'expired' : 'forbidden') : 'bad_request';
            this._refuse(ch, { code, reason });
          }
        } catch (e) { /* network trouble: retried below */ }
        ac.abort();
      }));
      if (this._conn !== c) return;
      if (bad) { this._conn = null; this._connect(); } else this._lost();
    }

    // A connection is up: reset the backoff and report the state.
    _up() {
      this._attempt = 0;
      this._opened = true;
      this._setState('open');
    }

    // Close the current connection without triggering a reconnect.
    _drop() {
      const c = this._conn;
      this._conn = null;
      if (c) c.t.close(c);
    }

    // The connection failed or died: reconnect to the next URL (the node may be
    // gone), after an exponential backoff with full jitter; when every URL
    // failed to open with this transport, try the next transport.
    _lost() {
      for (const ch of this._chans.values()) ch.stale = true; // names are renewed before resubscribing
      const n = this._urls.length;
      if (this._opened) this._fails = 0;
      else if (++this._fails % n === 0) this._tix++;
      this._url = this._urls[++this._uix % n];
      this._drop();
      if (this.state === 'closed') return;
      this._setState('reconnecting');
      const cap = Math.min(this._opts.reconnectMaxMs, this._opts.reconnectBaseMs * 2 ** Math.min(this._attempt++, 20));
      clearTimeout(this._retryTimer);
      this._retryTimer = setTimeout(() => this._connect(), Math.random() * cap);
    }

    _fail(err) {
      if (!this._emit('error', err)) console.warn('herald:', err.code, err.reason || '');
    }

    // A subscription was refused: report it to its callbacks and forget it.
    _refuse(ch, err) {
      err = { channel: ch.name, ...err };
      if (this._chans.get(ch.name) === ch) this._chans.delete(ch.name);
      for (const s of ch.subs) if (s.onError) { try { s.onError(err); } catch (e) { setTimeout(() => { throw e; }); } }
      this._emit('error', err);
      if (!this._warned.has(ch.name)) {
        this._warned.add(ch.name);
        console.warn('herald: subscription refused:', err.channel, err.code, err.reason || '');
      }
    }

    // 'expiring': get a fresh name and hand it over (WebSocket: refresh, the
    // subscription goes on; SSE: the stream reopens from the last ids).
    async _expiring(ch) {
      const c = this._conn;
      ch.stale = true;
      if (!(await this._renew(ch)) || this._conn !== c || this._chans.get(ch.name) !== ch) return;
      ch.rreq = ++this._req;
      this._send({ type: 'refresh', req: ch.rreq, channel: ch.signed });
    }

    _handle(m) {
      if (m.type === 'message') {
        const ch = this._chans.get(m.channel);
        if (!ch || (ch.last != null && m.id <= ch.last)) return; // never twice
        ch.last = m.id;
        const meta = { channel: m.channel, id: m.id };
        const raw = m.encoding === 'base64' ? fromBase64(m.data) : m.data;
        for (const s of [...ch.subs]) {
          let data = raw;
          if (s.json && typeof raw === 'string') {
            try { data = JSON.parse(raw); } catch (e) {
              this._fail({ channel: m.channel, id: m.id, code: 'bad_json', reason: e.message });
              continue;
            }
          }
          try { s.fn(data, meta); } catch (e) { setTimeout(() => { throw e; }); }
        }
        this._emit('message', meta);
      } else if (m.type === 'subscribed') {
        const ch = this._chans.get(m.channel);
        if (!ch) return;
        if (m.resume === 'gap') {
          this._emit('gap', { channel: m.channel, since: ch.last, last: m.last });
          ch.last = m.last;
        } else if (ch.last == null && typeof m.last === 'number') ch.last = m.last;
        this._emit('subscribed', { channel: m.channel, last: m.last, resume: m.resume });
      } else if (m.type === 'expiring') {
        const ch = this._chans.get(m.channel);
        if (ch) this._expiring(ch);
      } else if (m.type === 'unsubscribed' && m.reason) {
        // heraldd ended it (expired, revoked): resubscribe from the last id
        // with a fresh name, or report it like a refusal.
        const ch = this._chans.get(m.channel);
        if (!ch) return;
        if (!ch.getName) return this._refuse(ch, { code: m.reason, reason: 'the subscription ' + m.reason });
        ch.stale = true;
        this._resubscribe(ch, this._conn);
      } else if (m.type === 'error') {
        const ch = [...this._chans.values()].find((c) => c.req === m.req);
        if (ch) return this._refuse(ch, { code: m.code, reason: m.reason });
        // a refused refresh leaves the subscription as it was
        const r = [...this._chans.values()].find((c) => c.rreq === m.req);
        this._fail(r ? { channel: r.name, code: m.code, reason: m.reason } : { code: m.code, reason: m.reason });
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
