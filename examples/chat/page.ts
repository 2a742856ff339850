// The chat demo's page, served at `/`: kept as a string module because tsc copies no .html files.
// Its script connects back to the same host and port, shows every message of the room, and sends
// what is typed as "name: text".

/** The HTML page of the chat demo. */
export const page = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsbeast chat</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #eef1f6; }
  body { margin: 0; display: flex; justify-content: center; }
  main { width: min(40rem, 100%); margin: 2rem 1rem; background: #fff; border-radius: 12px;
         box-shadow: 0 2px 12px rgba(0, 0, 0, .08); display: flex; flex-direction: column; height: calc(100vh - 4rem); }
  header { padding: 1rem 1.25rem; border-bottom: 1px solid #e3e7ee; display: flex; align-items: baseline; gap: 1rem; }
  h1 { font-size: 1.15rem; margin: 0; }
  #status { font-size: .85rem; color: #8a93a3; }
  #status.open { color: #23884a; }
  #messages { list-style: none; margin: 0; padding: 1rem 1.25rem; overflow-y: auto; flex: 1; }
  #messages li { padding: .35rem .6rem; margin: .2rem 0; background: #f3f6fb; border-radius: 8px; overflow-wrap: anywhere; }
  form { display: flex; gap: .5rem; padding: 1rem 1.25rem; border-top: 1px solid #e3e7ee; }
  input { font: inherit; padding: .5rem .65rem; border: 1px solid #c9d0dc; border-radius: 8px; }
  #name { width: 7rem; }
  #text { flex: 1; }
  button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: 8px; background: #2f6fdf; color: #fff; cursor: pointer; }
  button:disabled { background: #9fb6e3; cursor: default; }
</style>
</head>
<body>
<main>
  <header><h1>tsbeast chat</h1><span id="status">connecting…</span></header>
  <ul id="messages" aria-live="polite"></ul>
  <form id="form">
    <input id="name" aria-label="name" maxlength="24">
    <input id="text" aria-label="message" placeholder="Say something" autocomplete="off" maxlength="2000">
    <button id="send" type="submit" disabled>Send</button>
  </form>
</main>
<script>
  const status = document.getElementById('status');
  const messages = document.getElementById('messages');
  const name = document.getElementById('name');
  const text = document.getElementById('text');
  const send = document.getElementById('send');
  name.value = 'guest-' + Math.floor(1000 + Math.random() * 9000);

  const ws = new WebSocket('ws://' + location.host + '/');
  ws.onopen = () => { status.textContent = 'connected'; status.className = 'open'; send.disabled = false; text.focus(); };
  ws.onclose = (e) => { status.textContent = 'disconnected (' + e.code + ')'; status.className = ''; send.disabled = true; };
  ws.onmessage = (e) => {
    const li = document.createElement('li');
    li.textContent = e.data; // text, never markup
    messages.append(li);
    messages.scrollTop = messages.scrollHeight;
  };
  document.getElementById('form').onsubmit = (e) => {
    e.preventDefault();
    if (text.value.trim() === '' || ws.readyState !== WebSocket.OPEN) return;
    ws.send(name.value + ': ' + text.value);
    text.value = '';
  };
</script>
</body>
</html>
`;
