// @vitest-environment happy-dom
// The concept inspector's fragility section: explained, computed only on the button, stale answers dropped.
import { describe, expect, it } from 'vitest';
import type { FragilityReport } from '../../src/shared/contract.ts';
import { FakeBridge } from '../../src/renderer/bridge/fakeBridge.ts';
import { TYPED, type ConceptAttrs } from '../../src/renderer/editor/schema.ts';
import { Inspector } from '../../src/renderer/ui/inspector.ts';

const attrs = (id: string, language = 'eng_Latn'): ConceptAttrs => ({ id, language, depth: 0, block: 'paragraph', blockStart: true, marker: null, ...TYPED });
const tick = () => new Promise((r) => setTimeout(r, 0));

function mount(api = new FakeBridge()) {
  const inspector = new Inspector({ api, flush: async () => {}, revert: async () => {}, changeLanguage: () => {}, open: () => {} });
  document.body.replaceChildren(inspector.element);
  const section = () => inspector.element.querySelector('.fragility')!;
  const button = () => section().querySelector<HTMLButtonElement>('button.fragility-measure');
  return { api, inspector, section, button };
}

describe('inspector: fragility', () => {
  it('explains the score and asks nothing until the button is pressed; then shows the score and each level', async () => {
    const { api, inspector, section, button } = mount();
    inspector.show(attrs('c1'), 'The sea was calm.');
    expect(section().textContent).toMatch(/noise is added to the vector, it is decoded again.*chrF.*several decodes/);
    expect(api.fragilityRequests).toEqual([]);
    button()!.click();
    expect(section().textContent).toContain('Measuring fragility…');
    await tick();
    expect(api.fragilityRequests).toEqual([{ text: 'The sea was calm.', language: 'eng_Latn' }]);
    expect(section().querySelector('.fragility-score')!.textContent).toBe('58.8 / 100 — somewhat fragile');
    const rows = [...section().querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows.map((r) => r.slice(0, 2))).toEqual([['10%', '85.0'], ['20%', '70.0'], ['30%', '55.0'], ['50%', '25.0']]);
    expect(button()!.textContent).toBe('Measure again');
  });

  it('moving to another concept (or editing the text) clears the result and drops an answer still on its way', async () => {
    let release!: (r: FragilityReport) => void;
    const api = new FakeBridge();
    const real = api.conceptFragility.bind(api);
    api.conceptFragility = async (req) => {
      const r = await real(req);
      return new Promise<FragilityReport>((resolve) => (release = () => resolve(r)));
    };
    const { inspector, section, button } = mount(api);
    inspector.show(attrs('c1'), 'The sea was calm.');
    button()!.click();
    await tick();
    inspector.show(attrs('c2'), 'Sailors trusted it.');
    release(undefined as never);
    await tick();
    expect(section().querySelector('.fragility-score')).toBeNull();
    expect(button()!.textContent).toBe('Measure fragility');
    inspector.show(attrs('c2'), '');
    expect(button()!.disabled).toBe(true);
  });

  it('an error is shown with a way to try again', async () => {
    const api = new FakeBridge();
    api.conceptFragility = async () => {
      throw Object.assign(new Error('No model pack is loaded.'), { code: 'ENGINE_UNAVAILABLE' });
    };
    const { inspector, section, button } = mount(api);
    inspector.show(attrs('c1'), 'The sea was calm.');
    button()!.click();
    await tick();
    expect(section().textContent).toMatch(/Fragility not available: .*No model pack is loaded/);
    expect(button()!.textContent).toBe('Try again');
  });
});
