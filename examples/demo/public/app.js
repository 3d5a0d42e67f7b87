// The demo page: subscribe with the signed names PHP minted for this user,
// show every message as it arrives; the links call the PHP emit route.
// window.demo keeps what happened, for the browser tests.
(() => {
  const cfg = window.HERALD_DEMO;
  const $ = (id) => document.getElementById(id);
  const demo = (window.demo = { received: [], errors: [], gaps: [], states: [], subscribed: [] });

  const line = (cls, text) => {
    const li = document.createElement('li');
    if (cls) li.className = cls;
    li.textContent = text;
    $('log').append(li);
  };

  // A fresh signed name from the app (GET /names checks the session), so
  // the page outlives its names: herald.js calls this before one expires.
  const getName = async (channel) => {
    demo.renewals = (demo.renewals || 0) + 1;
    const r = await fetch('/names?channels=' + encodeURIComponent(channel), { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) throw new Error(`/names: ${r.status}`);
    return (await r.json())[channel];
  };
  const herald = (demo.herald = Herald.connect(cfg.url, { transports: cfg.transports, getName }));
  herald.on('state', (s) => { demo.states.push(s); $('state').textContent = s; });
  herald.on('subscribed', (s) => demo.subscribed.push(s));
  herald.on('gap', (g) => {
    demo.gaps.push(g);
    line('gap', `${g.channel}: some messages are no longer in history (gap) — reload the page for the full state`);
  });
  herald.on('error', (e) => {
    demo.errors.push(e);
    line('err', `${e.channel || 'herald'}: refused (${e.code}${e.reason ? ': ' + e.reason : ''})`);
  });

  const show = (data, meta) => {
    demo.received.push({ channel: meta.channel, id: meta.id, data });
    line('', `${meta.channel} #${meta.id}: ${data}`);
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
  // (Its getName is the app's, which refuses it: no renewal either.)
  $('snoop').addEventListener('click', () => {
    const mine = cfg.channels.find((c) => c.startsWith('user.'));
    const other = $('snoop').textContent.match(/user\.[\w-]+/)[0];
    herald.subscribe(other + mine.slice(mine.indexOf('~')), show);
  });
})();
