// @ts-check
/* A viewer WebSocket this page attaches to a session (through the proxy), and the hello it receives. */
import { render, setViewerStatus } from './card-view.js';
import { byTestId, errorText } from './dom.js';
import { isTerminal } from './states.js';

/** @typedef {import('./store.js').Session} Session */

/** @param {Session} session */
function renderHello(session) {
  const { hello, el } = session;
  const box = byTestId('session-hello', el);
  box.hidden = !hello;
  if (!hello) return;
  const model = byTestId('hello-model', el);
  model.replaceChildren();
  const note = document.createElement('span');
  if (hello.model === null || hello.model === undefined || hello.model === '') {
    note.className = 'none';
    note.textContent = 'not set';
    model.append(note);
  } else {
    note.className = hello.modelFound ? 'found' : 'missing';
    note.textContent = hello.modelFound ? ' ✓' : ' (not found)';
    note.title = hello.modelFound
      ? 'found in the model search directories'
      : 'not found in the model search directories';
    model.append(String(hello.model), note);
  }
  byTestId('hello-renderer', el).textContent = String(hello.rendererType ?? '–').toUpperCase();
  byTestId('hello-token', el).textContent = hello.sessionToken ? 'required' : 'none';
  box.title = JSON.stringify(hello);
}

/**
 * @param {Session} session
 * @param {WebSocket} ws
 */
function follow(session, ws) {
  ws.addEventListener('open', () => {
    session.wsOpened = true;
    setViewerStatus(session, 'connected', 'Viewer connected · waiting for hello');
  });
  ws.addEventListener('message', (message) => {
    if (typeof message.data !== 'string') return;
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (data && data.type === 'hello') {
      session.hello = data;
      renderHello(session);
      setViewerStatus(session, 'connected', 'Viewer connected · hello received');
    }
  });
  ws.addEventListener('close', (event) => {
    if (session.ws !== ws) return;
    session.ws = null;
    const why = `code ${event.code}${event.reason ? `, ${event.reason}` : ''}`;
    if (session.wsOpened) setViewerStatus(session, 'closed', `Viewer closed (${why})`);
    else {
      const gone = 'the session may be gone or already have a viewer';
      setViewerStatus(session, 'error', `Viewer could not connect (${why}): ${gone}`);
    }
    render(session);
  });
}

/** @param {Session} session */
export function connectViewer(session) {
  const { view } = session;
  // links.ws reaches this node under its prefix, through a balancer too; proxyEndpoint may be balanced elsewhere.
  const url = (view.links && view.links.ws) || view.proxyEndpoint;
  if (session.ws || isTerminal(view.state) || !url) return;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch (error) {
    setViewerStatus(session, 'error', `Cannot open ${url}: ${errorText(error)}`);
    return;
  }
  ws.binaryType = 'arraybuffer';
  session.ws = ws;
  session.wsTried = true;
  session.wsOpened = false;
  setViewerStatus(session, 'connecting', 'Connecting viewer…');
  render(session);
  follow(session, ws);
}
