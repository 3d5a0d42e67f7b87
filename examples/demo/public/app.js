// The demo page: subscribe with the signed names PHP minted for this user,
// show every message as it arrives; the links call the PHP emit route.
// window.demo keeps what happened, for the browser tests.
(() => {
  const cfg = window.HERALD_DEMO;
  const $ = (id) => document.getElementById(id);
  const demo = (window.demo = { received: [], errors: [], gaps: [], states: [], subscribed: [] });

  const line = (cls, text, title) => {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    if (title) li.title = title;
    li.textContent = text;
    $('log').append(li);
  };

  const herald = (demo.herald = Herald.connect(cfg.url, { transports: cfg.transports }));
  herald.on('state', (s) => { demo.states.push(s); $('state').textContent = s; });
  // A message id is (the ms heraldd created the channel's state) × 1000 + n,
  // n counting from 0: the page shows n + 1, the message's number on its
  // channel, and the full id on hover. The base comes from the channel's
  // `last` at subscription (exact while the channel has had fewer than 1000
  // messages then) and is renewed on a gap (a new incarnation of the channel).
  const bases = new Map();
  const baseOf = (id) => Math.floor(id / 1000) * 1000;
  herald.on('subscribed', (s) => {
    demo.subscribed.push(s);
    if (!bases.has(s.channel) && typeof s.last === 'number') bases.set(s.channel, baseOf(s.last + 1));
  });
  herald.on('gap', (g) => {
    bases.delete(g.channel);
    demo.gaps.push(g);
    line('gap', `${g.channel}: some messages are no longer in history (gap) — reload the page for the full state`);
  });
  herald.on('error', (e) => {
    demo.errors.push(e);
    line('err', `${e.channel || 'herald'}: refused (${e.code}${e.reason ? ': ' + e.reason : ''})`);
  });

  const show = (data, meta) => {
    demo.received.push({ channel: meta.channel, id: meta.id, data });
    if (!bases.has(meta.channel)) bases.set(meta.channel, baseOf(meta.id));
    line('', `${meta.channel} #${meta.id - bases.get(meta.channel) + 1}: ${data}`, `message id ${meta.id}`);
  };
  for (const name of cfg.channels) herald.subscribe(name, show);

  async function emit(channel, message) {
    const r = await fetch('/emit/' + encodeURIComponent(channel) + '/' + encodeURIComponent(message),
                          { credentials: 'same-origin' });
    if (!r.ok) line('err', `emit ${channel}: ${r.status} ${(await r.text()).trim()}`);
  }
  demo.emit = emit;

  $('links').addEventListener('click', (e) => {
    const a = e.target.closest('a[data-channel]');
    if (!a) return;
    e.preventDefault();
    emit(a.dataset.channel, a.dataset.message);
  });
  $('send').addEventListener('click', () => emit($('channel').value, $('message').value));

  // Reuse this user's own signature on another user's channel: a forgery.
  $('snoop').addEventListener('click', () => {
    const mine = cfg.channels.find((c) => c.startsWith('user.'));
    const other = $('snoop').textContent.match(/user\.[\w-]+/)[0];
    herald.subscribe(other + mine.slice(mine.indexOf('~')), show);
  });
})();
