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
    expect(section().textContent).toMatch(/mixed with more and more noise, decoded again.*BLEU, 0–100.*cosine.*several decodes/);
    expect(api.fragilityRequests).toEqual([]);
    button()!.click();
    expect(section().textContent).toContain('Measuring fragility…');
    await tick();
    expect(api.fragilityRequests).toEqual([{ text: 'The sea was calm.', language: 'eng_Latn' }]);
    expect(section().querySelector('.fragility-score')!.textContent).toBe('41.6 / 100 BLEU — somewhat fragile');
    const rows = [...section().querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(rows.map((r) => r.slice(0, 4))).toEqual([
      ['0.10', '88.0', '90.0', '0.900'], ['0.30', '64.0', '70.0', '0.700'], ['0.50', '40.0', '50.0', '0.500'], ['0.70', '16.0', '30.0', '0.300'], ['0.90', '0.0', '10.0', '0.100'],
    ]);
    expect(section().textContent).toContain('Under noise: chrF 50.0, cosine 0.500, stability 45.0. Plain round trip: BLEU 100.0, chrF 100.0. Seed 0.');
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
