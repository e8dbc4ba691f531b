// @vitest-environment happy-dom
// The Models page over the fake bridge: the list with its facts and states, Add by typed path (button and Enter),
// progress, errors as the main side words them, Make default, Load, Verify, Remove (with its confirmation), the folder dialog.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBridge, fakePack } from '../../src/renderer/bridge/fakeBridge.ts';
import { formatSize, languageSummary, ModelsPage, validationText } from '../../src/renderer/ui/modelsPage.ts';

const settle = () => new Promise((r) => setTimeout(r, 0));

function mount(bridge = new FakeBridge()) {
  let changes = 0;
  const page = new ModelsPage({ api: bridge, changed: () => { changes++; } });
  document.body.append(page.element);
  const q = <T extends HTMLElement>(sel: string) => page.element.querySelector<T>(sel)!;
  const button = (name: string) => [...page.element.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent) === name)!;
  const rows = () => [...page.element.querySelectorAll<HTMLElement>('.pack')];
  return { bridge, page, q, button, rows, changes: () => changes };
}

afterEach(() => document.body.replaceChildren());

describe('the Models page', () => {
  it('lists packs with badges, state, size, languages, architecture, provenance and card; buttons are named after the pack', async () => {
    const m = mount();
    m.bridge.packs.push(fakePack('broken', { validation: { state: 'invalid', code: 'PACK_INVALID', message: 'Model pack `broken`, file `decoder.onnx`: missing (expected at /packs/broken/decoder.onnx); reinstall or re-export the pack' } }));
    await m.page.refresh();
    const [fake, broken] = m.rows();
    expect(fake!.dataset.name).toBe('fake');
    expect(fake!.getAttribute('aria-labelledby')).toBe(fake!.querySelector('h3')!.id);
    expect([...fake!.querySelectorAll('.pack-badge')].map((b) => b.textContent)).toEqual(['Default', 'Loaded', 'Bundled with the app']);
    expect(fake!.querySelector('.pack-state')!.textContent).toBe('Manifest and file sizes are right; Verify checks every file\'s hash and every graph.');
    expect(fake!.querySelector('.pack-facts')!.textContent).toBe('fake 1.0.0 · 2.0 MB · 8 languages · two-tower-diffusion · SONAR 32-d, 2+2 layers; LCM 48-d, 2+2 layers');
    expect(fake!.querySelector('.pack-languages')!.textContent).toBe('Languages: English, French, German, Russian, Chinese (Simplified), Japanese and 2 more');
    expect([...fake!.querySelectorAll('dt')].map((d) => d.textContent)).toEqual(['createdBy', 'weights']);
    expect(fake!.querySelector('.pack-card')!.textContent).toMatch(/^This pack exists/);
    // Loaded, default and bundled: only Verify applies.
    expect([...fake!.querySelectorAll('.pack-actions button')].map((b) => b.getAttribute('aria-label'))).toEqual(['Verify fake']);
    expect(broken!.dataset.state).toBe('invalid');
    expect(broken!.querySelector('.pack-state')!.textContent).toBe('Cannot be used: Model pack `broken`, file `decoder.onnx`: missing (expected at /packs/broken/decoder.onnx); reinstall or re-export the pack');
    expect([...broken!.querySelectorAll('.pack-actions button')].map((b) => b.textContent)).toEqual(['Verify', 'Remove']);
    expect(m.q('.pack-path-row button').hidden).toBe(true); // no folder dialog in a browser
    expect(m.q('p.hint').textContent).toContain('/home/writer/.config/Concept Studio/packs');
  });

  it('adds a pack from a typed path (button, then Enter), shows progress, redraws the list and tells the app', async () => {
    const m = mount();
    await m.page.refresh();
    const statuses: string[] = [];
    m.bridge.onPackEvent(() => statuses.push(m.q('.models-status').textContent!));
    m.q<HTMLInputElement>('.pack-path').value = '/data/packs/sonar-lcm';
    m.q<HTMLInputElement>('.pack-name').value = 'sonar';
    m.button('Add pack').click();
    await settle();
    expect(m.bridge.packRequests).toEqual([{ method: 'addPack', req: { path: '/data/packs/sonar-lcm', name: 'sonar', link: false, makeDefault: false, replace: false } }]);
    expect(statuses).toEqual(['Verifying /data/packs/sonar-lcm (every file and graph)…', 'Copying sonar: 1.9 MB of 1.9 MB…', 'Verifying the copy of sonar…', 'Verifying the copy of sonar…']);
    expect(m.rows().map((r) => r.dataset.name)).toEqual(['fake', 'sonar']);
    expect(m.rows()[1]!.querySelector('.pack-state')!.textContent).toMatch(/^Verified: every file and graph checked/);
    expect(m.q('.models-status').textContent).toBe('Added sonar: verified and installed.');
    expect(m.q<HTMLInputElement>('.pack-path').value).toBe('');
    expect(m.changes()).toBe(1);

    // Keyboard: Enter in the path field adds (and does not submit the surrounding dialog).
    const path = m.q<HTMLInputElement>('.pack-path');
    path.value = '/data/packs/other';
    const link = m.page.element.querySelectorAll<HTMLInputElement>('input[type=checkbox]');
    link[0]!.checked = true;
    link[1]!.checked = true;
    const enter = new KeyboardEvent('keydown', { key: 'Enter', cancelable: true });
    path.dispatchEvent(enter);
    expect(enter.defaultPrevented).toBe(true);
    await settle();
    expect(m.bridge.packRequests[1]).toEqual({ method: 'addPack', req: { path: '/data/packs/other', link: true, makeDefault: true, replace: false } });
    expect(m.rows().find((r) => r.dataset.name === 'other')!.querySelector('.pack-badge')!.textContent).toBe('Default');
  });

  it('shows the main side\'s error for a broken pack and for an empty path, and keeps the list', async () => {
    const m = mount();
    await m.page.refresh();
    m.button('Add pack').click();
    await settle();
    expect(m.q('.models-error').textContent).toBe('Give the pack folder first: the full path of the folder that holds manifest.json.');
    expect(m.bridge.packRequests).toEqual([]);
    const message = 'Model pack `tiny-fixture`, file `encoder.onnx`: SHA-256 mismatch (file 0123456789ab…, manifest ba9876543210…); the file is corrupt or was modified';
    m.bridge.packError = { name: 'PackError', code: 'PACK_INVALID', message };
    m.q<HTMLInputElement>('.pack-path').value = '/data/broken';
    m.button('Add pack').click();
    await settle();
    expect(m.q('.models-error').getAttribute('role')).toBe('alert');
    expect(m.q('.models-error').textContent).toBe(message);
    expect(m.q<HTMLProgressElement>('.pack-progress').hidden).toBe(true);
    expect(m.q<HTMLButtonElement>('.pack-add-row button').disabled).toBe(false);
    expect(m.rows()).toHaveLength(1);
    expect(m.changes()).toBe(0);
  });

  it('Make default, Load and Verify call the bridge; Remove asks first; Choose folder fills the path in Electron', async () => {
    const bridge = new FakeBridge();
    bridge.folderChoice = '/chosen/pack';
    bridge.packs.push(fakePack('extra-one'));
    const m = mount(bridge);
    await m.page.refresh();
    m.button('Make default extra-one').click();
    await settle();
    expect(bridge.packRequests.at(-1)).toEqual({ method: 'setDefaultPack', req: { name: 'extra-one' } });
    expect(m.rows()[1]!.querySelector('.pack-badge')!.textContent).toBe('Default');
    m.button('Load extra-one').click();
    await settle();
    expect(bridge.settings.pack).toBe('extra-one');
    m.button('Verify extra-one').click();
    await settle();
    expect(m.q('.models-status').textContent).toBe('extra-one is verified.');
    expect(m.changes()).toBe(2);

    m.button('Remove extra-one').click();
    await settle();
    const dialog = document.querySelector('dialog')!;
    expect(dialog.querySelector('h2')!.textContent).toBe('Remove extra-one?');
    expect(dialog.textContent).toContain('Its folder /packs/extra-one (2.0 MB) is deleted.');
    dialog.querySelector('form')!.requestSubmit();
    await settle();
    await settle();
    expect(bridge.packRequests.at(-1)).toEqual({ method: 'removePack', req: { name: 'extra-one' } });
    expect(m.rows().map((r) => r.dataset.name)).toEqual(['fake']);

    expect(m.q('.pack-path-row button').hidden).toBe(false);
    m.q<HTMLButtonElement>('.pack-path-row button').click();
    await settle();
    expect(m.q<HTMLInputElement>('.pack-path').value).toBe('/chosen/pack');
  });

  it('words sizes, languages and states', () => {
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(6.3 * 1024 ** 3)).toBe('6.3 GB');
    expect(formatSize(null)).toBe('size unknown');
    expect(languageSummary(['eng_Latn', 'arb_Arab'])).toBe('English, Modern Standard Arabic');
    expect(validationText(fakePack('x', { validation: { state: 'verified', at: 1000 } }), 2000)).toBe('Verified: every file and graph checked (just now).');
  });
});
