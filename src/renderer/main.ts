// Renderer entry: connect to the bridge (the preload in Electron, the web host in a browser), then start the app.
import './styles/app.css';
import './styles/editor.css';
import { connectBridge } from './bridge/index.ts';
import { App } from './ui/app.ts';
import { errorText } from './ui/dom.ts';

/** A line under the top bar while the web host's event socket is down (job progress resumes when it is back). */
function connectionHint(connected: boolean): void {
  let hint = document.getElementById('connection-hint');
  if (!hint) {
    hint = document.createElement('p');
    hint.id = 'connection-hint';
    hint.className = 'connection-hint';
    hint.setAttribute('role', 'status');
    document.body.append(hint);
  }
  hint.textContent = connected ? '' : 'Lost the connection to the Concept Studio server; reconnecting…';
  hint.hidden = connected;
}

async function main(root: HTMLElement): Promise<void> {
  try {
    const api = await connectBridge(connectionHint);
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
