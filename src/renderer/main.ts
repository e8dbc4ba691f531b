// Renderer entry: connect to the bridge (the preload in Electron, the web host in a browser), then start the app.
import './styles/app.css';
import './styles/editor.css';
import { connectBridge } from './bridge/index.ts';
import { App } from './ui/app.ts';
import { errorText } from './ui/dom.ts';

/** The line under the top bar for the web host's event socket. */
function hintLine(): HTMLElement {
  let hint = document.getElementById('connection-hint');
  if (!hint) {
    hint = document.createElement('p');
    hint.id = 'connection-hint';
    hint.className = 'connection-hint';
    hint.setAttribute('role', 'status');
    document.body.append(hint);
  }
  return hint;
}

/** While the socket is down (job progress resumes when it is back: the server replays what was sent meanwhile). */
let lostEvents = 0;
function connectionHint(connected: boolean): void {
  const hint = hintLine();
  if (connected && lostEvents) return; // the lost-events notice stays until the page is reloaded
  hint.textContent = connected ? '' : 'Lost the connection to the Concept Studio server; reconnecting…';
  hint.hidden = connected;
}

/** After a very long outage the server may no longer hold every event sent meanwhile: say so, and what to do. */
function eventsMissed(count: number): void {
  lostEvents += count;
  const hint = hintLine();
  hint.textContent = `The connection was down so long that ${lostEvents} job update${lostEvents === 1 ? ' was' : 's were'} lost; `
    + 'concepts a job generated meanwhile may be missing here. Reload the page and run the job again if so.';
  hint.hidden = false;
}

async function main(root: HTMLElement): Promise<void> {
  try {
    const api = await connectBridge({ onConnectionChange: connectionHint, onEventsMissed: eventsMissed });
    const [info, settings] = await Promise.all([api.appInfo(), api.getSettings()]);
    await new App(root, api, info, settings).start();
    root.setAttribute('aria-busy', 'false');
  } catch (error) {
    root.textContent = `Concept Studio could not start: ${errorText(error)}`;
    root.setAttribute('aria-busy', 'false');
  }
}

const root = document.getElementById('app');
if (root) void main(root);
