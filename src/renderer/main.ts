// Renderer entry. The ProseMirror concept editor is the desktop-app issue (#5); until it lands,
// the window shows what the engine has loaded, through the same bridge the editor will use.
import type { AppInfo } from '../shared/bridge.ts';

function render(root: HTMLElement, info: AppInfo): void {
  const heading = document.createElement('h1');
  heading.textContent = `Concept Studio ${info.version}`;
  const pack = document.createElement('p');
  pack.textContent = 'error' in info.pack
    ? `No model pack loaded: ${info.pack.error}`
    : `Model pack ${info.pack.name}: ${info.pack.embeddingDim}-d concepts, languages ${info.pack.languages.join(', ')}.`;
  const providers = document.createElement('p');
  providers.textContent = `Execution providers: ${info.providers.join(', ')}.`;
  root.replaceChildren(heading, pack, providers);
}

const root = document.getElementById('app');
if (root) {
  window.conceptStudio.appInfo().then((info) => render(root, info), (error: unknown) => {
    root.textContent = `Could not reach the main process: ${String(error)}`;
  });
}
