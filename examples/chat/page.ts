// The chat demo's page, served at `/`: kept as a string module because tsc copies no .html files.
// Its script connects back to the same host and port (/chat), reconnects with backoff and says
// so, shows joins, leaves, the member count and the recent history, and knows the server's
// message limit. Everything from the network is shown as text, never as markup.

import { maxTextBytes } from './protocol.js';

/** The HTML page of the chat demo. */
export const page = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsbeast chat</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #eef1f6; }
  * { box-sizing: border-box; }
  body { margin: 0; display: flex; justify-content: center; }
  main { width: min(44rem, 100%); margin: 1.5rem 1rem; background: #fff; border-radius: 12px;
         box-shadow: 0 2px 12px rgba(0, 0, 0, .08); display: flex; flex-direction: column; height: calc(100dvh - 3rem); min-width: 0; }
  header { padding: .8rem 1.1rem; border-bottom: 1px solid #e3e7ee; display: flex; flex-wrap: wrap; align-items: center; gap: .4rem .9rem; }
  h1 { font-size: 1.1rem; margin: 0; }
  .pill { font-size: .8rem; padding: .15rem .55rem; border-radius: 999px; background: #eef1f6; color: #5b6475; white-space: nowrap; }
  #status.open { background: #e3f4ea; color: #1f7a43; }
  #status.down { background: #fdecea; color: #a23b2a; }
  #who { margin-left: auto; font-size: .85rem; color: #5b6475; display: flex; align-items: center; gap: .35rem; }
  #name { width: 8.5rem; font-size: .85rem; padding: .2rem .4rem; }
  #messages { list-style: none; margin: 0; padding: .8rem 1.1rem; overflow-y: auto; flex: 1; min-height: 0; }
  #messages li { padding: .35rem .6rem; margin: .2rem 0; border-radius: 8px; overflow-wrap: anywhere; white-space: pre-wrap; }
  #messages li.msg { background: #f3f6fb; }
  #messages li.mine { background: #e6efff; }
  #messages li .from { font-weight: 600; margin-right: .4rem; }
  #messages li time { float: right; font-size: .75rem; color: #8a93a3; margin-left: .5rem; }
  #messages li.notice { color: #6b7384; font-size: .85rem; text-align: center; padding: .15rem; }
  #messages li.notice.bad { color: #a23b2a; }
  form { display: flex; gap: .5rem; padding: .8rem 1.1rem .3rem; border-top: 1px solid #e3e7ee; }
  input { font: inherit; padding: .5rem .65rem; border: 1px solid #c9d0dc; border-radius: 8px; min-width: 0; }
  #text { flex: 1; }
  button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: 8px; background: #2f6fdf; color: #fff; cursor: pointer; flex: none; }
  button:disabled { background: #9fb6e3; cursor: default; }
  #hint { min-height: 1.4rem; padding: 0 1.1rem .5rem; font-size: .8rem; color: #8a93a3; }
  #hint.bad { color: #a23b2a; }
  @media (max-width: 480px) {
    main { margin: 0; border-radius: 0; height: 100dvh; }
    header, form, #messages { padding-left: .7rem; padding-right: .7rem; }
    #who { margin-left: 0; width: 100%; }
  }
</style>
</head>
<body>
<main>
  <header>
    <h1>tsbeast chat</h1>
    <span id="status" class="pill" role="status">connecting…</span>
    <span id="count" class="pill">0 here</span>
    <label id="who">you are <input id="name" aria-label="your name" autocomplete="nickname" spellcheck="false"></label>
  </header>
  <ul id="messages" aria-live="polite"></ul>
  <form id="form">
    <input id="text" aria-label="message" placeholder="Say something" autocomplete="off">
    <button id="send" type="submit" disabled>Send</button>
  </form>
  <div id="hint" aria-live="polite"></div>
</main>
<script>
  const maxBytes = ${maxTextBytes}; // the server's limit: it closes with 1009 (too big) past it
  const $ = (id) => document.getElementById(id);
  const status = $('status'), count = $('count'), messages = $('messages'), nameInput = $('name');
  const text = $('text'), send = $('send'), hint = $('hint');
  const encoder = new TextEncoder();

  // Who this browser is: a token that lets it take its name back after a reconnect.
  let token = localStorage.getItem('chat-token');
  if (!token) { token = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''); localStorage.setItem('chat-token', token); }
  let wanted = localStorage.getItem('chat-name') || '';
  let me = '';
  let lastSeq = 0;
  let ws = null;
  let attempt = 0;
  let retryTimer = 0;
  let tickTimer = 0;

  // Close codes in words (RFC 6455 section 7.4.1). A browser reports 1005 when the close frame had
  // no code and 1006 when the connection was lost without one; neither is ever "code 0".
  const closeWords = {
    1000: 'closed normally', 1001: 'the server is going away', 1002: 'protocol error',
    1003: 'the server cannot accept this kind of data', 1005: 'closed without a status code',
    1006: 'connection lost', 1007: 'invalid text', 1008: 'closed by server policy',
    1009: 'message too big', 1010: 'a required extension is missing', 1011: 'server error',
    1012: 'the server is restarting', 1013: 'try again later', 1014: 'bad gateway', 1015: 'TLS handshake failed',
  };
  function describeClose(e) {
    const words = closeWords[e.code] || (e.code >= 4000 ? 'closed by the application' : 'closed');
    return e.reason ? words + ': ' + e.reason : words;
  }

  function setStatus(words, kind) { status.textContent = words; status.className = 'pill ' + (kind || ''); }
  function setCount(n) { count.textContent = n + (n === 1 ? ' member' : ' members'); }

  function add(li) {
    const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
    messages.append(li);
    if (atBottom) messages.scrollTop = messages.scrollHeight;
  }
  function notice(words, bad) {
    const li = document.createElement('li');
    li.className = 'notice' + (bad ? ' bad' : '');
    li.textContent = words;
    add(li);
  }
  function show(e) {
    if (e.type === 'message') {
      const li = document.createElement('li');
      li.className = 'msg' + (e.name === me ? ' mine' : '');
      const from = document.createElement('span');
      from.className = 'from';
      from.textContent = e.name;
      const time = document.createElement('time');
      time.textContent = new Date(e.time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      li.append(time, from, document.createTextNode(e.text));
      add(li);
    } else {
      notice(e.name + (e.type === 'join' ? ' joined' : ' left'));
      setCount(e.count);
    }
    lastSeq = Math.max(lastSeq, e.seq);
  }

  function connect() {
    clearTimeout(retryTimer);
    clearTimeout(tickTimer);
    setStatus(attempt === 0 ? 'connecting…' : 'reconnecting…');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/chat?token=' + token + (wanted ? '&name=' + encodeURIComponent(wanted) : '');
    const socket = new WebSocket(url);
    ws = socket;
    socket.onmessage = (m) => {
      const e = JSON.parse(m.data);
      if (e.type !== 'welcome') return show(e);
      attempt = 0;
      me = e.name;
      if (document.activeElement !== nameInput) nameInput.value = me;
      localStorage.setItem('chat-name', me);
      setStatus('connected', 'open');
      setCount(e.count);
      const newest = e.history.reduce((m, h) => Math.max(m, h.seq), 0);
      if (newest < lastSeq) lastSeq = 0; // the room restarted: its numbers started over
      for (const h of e.history) if (h.seq > lastSeq) show(h);
      notice('you joined as ' + me + ' (server ' + e.instance + ')');
      updateHint();
    };
    socket.onclose = (e) => {
      if (ws !== socket) return;
      ws = null;
      send.disabled = true;
      const delay = Math.min(15000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt++;
      const why = describeClose(e);
      if (me) notice('disconnected: ' + why, true);
      me = '';
      let left = Math.ceil(delay / 1000);
      const tick = () => {
        setStatus(why + ' · retrying in ' + left + ' s', 'down');
        if (left-- > 0) tickTimer = setTimeout(tick, 1000);
      };
      tick();
      retryTimer = setTimeout(connect, delay);
    };
  }

  function bytesOf(s) { return encoder.encode(s).length; }
  function updateHint() {
    const n = bytesOf(text.value);
    const open = ws !== null && ws.readyState === WebSocket.OPEN && me !== '';
    if (n > maxBytes) {
      hint.textContent = 'Too long to send: ' + n.toLocaleString() + ' bytes, the limit is ' + maxBytes.toLocaleString() + '. Shorten it or send it in parts.';
      hint.className = 'bad';
    } else {
      hint.textContent = n > maxBytes * 0.8 ? n.toLocaleString() + ' / ' + maxBytes.toLocaleString() + ' bytes' : '';
      hint.className = '';
    }
    send.disabled = !open || n > maxBytes || text.value.trim() === '';
  }
  text.addEventListener('input', updateHint);

  $('form').onsubmit = (e) => {
    e.preventDefault();
    updateHint();
    if (send.disabled) return;
    ws.send(text.value);
    text.value = '';
    updateHint();
    text.focus();
  };
  // A new name takes effect on a new connection: the server decides what we are called.
  nameInput.addEventListener('change', () => {
    const n = nameInput.value.trim();
    if (!/^[A-Za-z0-9_.-]{1,24}$/.test(n)) { notice('a name is 1 to 24 letters, digits, ".", "-" or "_"', true); nameInput.value = me; return; }
    if (n === me) return;
    wanted = n;
    localStorage.setItem('chat-name', n);
    attempt = 0;
    if (ws) { const old = ws; ws = null; old.close(1000, 'renaming'); }
    connect();
  });
  connect();
</script>
</body>
</html>
`;
