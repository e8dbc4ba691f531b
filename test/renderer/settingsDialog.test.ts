// @vitest-environment happy-dom
// Settings names the loaded pack's LCM design and shows the sampling settings that apply to it:
// steps and guidance for a diffusion pack, temperature and top-k for a Quant-LCM pack.
import { describe, expect, it } from 'vitest';
import type { PackInfo, Settings } from '../../src/shared/contract.ts';
import { FakeBridge } from '../../src/renderer/bridge/fakeBridge.ts';
import { DEFAULT_PREFS } from '../../src/renderer/ui/prefs.ts';
import { settingsDialog } from '../../src/renderer/ui/settingsDialog.ts';

const QUANT: Partial<PackInfo> = { architecture: 'quant-discrete', sampling: null, trainSteps: null, quantSampling: { temperature: 0.8, topK: 6 }, codebookSize: 16 };

/** Shows the dialog for a pack like the fake's with `pack` over it; `settings` over the fake's. */
async function show(pack: Partial<PackInfo>, settings: Partial<Settings> = {}) {
  const api = new FakeBridge();
  await api.updateSettings(settings);
  const info = await api.appInfo();
  const patches: Partial<Settings>[] = [];
  const shown = settingsDialog({
    info: { ...info, pack: { ...(info.pack as PackInfo), ...pack } },
    settings: await api.getSettings(),
    prefs: DEFAULT_PREFS,
    save: (p) => (patches.push(p), api.updateSettings(p)),
  });
  const dialog = document.querySelector('dialog')!;
  const field = (label: string) => [...dialog.querySelectorAll('label')].find((l) => l.textContent!.startsWith(label))?.querySelector('input') ?? null;
  const submit = async () => {
    dialog.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await new Promise((r) => setTimeout(r, 0));
  };
  const cancel = async () => {
    dialog.querySelector<HTMLButtonElement>('button[value="cancel"]')!.click();
    expect(await shown).toBeNull();
  };
  return { api, dialog, field, submit, cancel, shown, patches, text: dialog.textContent! };
}

async function open(architecture: string) {
  const d = await show({ architecture, sampling: null, trainSteps: null, ...(architecture.startsWith('quant') ? QUANT : {}) });
  await d.cancel();
  return d.text;
}

describe('settings: the pack\'s LCM design', () => {
  it('a Quant-LCM pack is named as such (not as a Base-LCM), with what applies to it', async () => {
    const text = await open('quant-discrete');
    expect(text).toContain('the pack\'s LCM is Quant-LCM, discrete (samples codebook units with a temperature and top-k; diffusion steps and guidance do not apply)');
    expect(text).toContain('The loaded pack is a Quant-LCM: it samples each concept unit by unit');
    expect(text).not.toContain('is a Base-LCM');
  });
  it('a Base-LCM pack keeps its own hint', async () => {
    const text = await open('base-mse');
    expect(text).toContain('The loaded pack is a Base-LCM: it predicts each concept deterministically');
    expect(text).not.toContain('Quant-LCM');
  });
});

describe('settings: Quant-LCM temperature and top-k', () => {
  it('a Quant-LCM pack shows Temperature and Top-k with the pack\'s defaults as placeholders, and no steps or guidance', async () => {
    const d = await show(QUANT, { quantSampling: { topK: 3 } });
    expect(d.field('Temperature')).toMatchObject({ value: '', placeholder: 'pack default: 0.8' });
    expect(d.field('Top-k')).toMatchObject({ value: '3', placeholder: 'pack default: 6' });
    expect(d.field('Top-k')!.max).toBe('16');
    expect(d.field('Diffusion steps')).toBeNull();
    expect(d.field('Guidance scale')).toBeNull();
    expect(d.field('Seed')).not.toBeNull();
    expect(d.text).toContain('Temperature 0 always takes the best unit');
    expect(d.text).not.toMatch(/no control/);
    await d.cancel();
  });

  it('saves what is typed (empty = the pack\'s default) and keeps the diffusion settings as they were', async () => {
    const d = await show(QUANT, { sampling: { inferenceSteps: 8 } });
    d.field('Temperature')!.value = '0';
    d.field('Top-k')!.value = '16';
    await d.submit();
    expect(await d.shown).toMatchObject({ settings: { quantSampling: { temperature: 0, topK: 16 }, sampling: { inferenceSteps: 8 } } });
    expect(d.patches).toHaveLength(1);
    expect(d.patches[0]).toMatchObject({ quantSampling: { temperature: 0, topK: 16 } });
    expect(d.patches[0]).not.toHaveProperty('sampling');

    const e = await show(QUANT, { quantSampling: { temperature: 2, topK: 4 } });
    e.field('Temperature')!.value = '1.25';
    e.field('Top-k')!.value = '';
    await e.submit();
    expect((await e.shown)!.settings.quantSampling).toEqual({ temperature: 1.25 });

    const f = await show(QUANT, { quantSampling: { temperature: 2 } });
    f.field('Temperature')!.value = '';
    await f.submit();
    expect((await f.shown)!.settings.quantSampling).toBeNull();
  });

  it.each([
    ['Temperature', '-1', 'Temperature must be a number from 0 (greedy: the best unit) to 100; leave it empty for the default.'],
    ['Temperature', '101', 'Temperature must be a number from 0 (greedy: the best unit) to 100'],
    ['Top-k', '17', 'Top-k must be a whole number from 0 (all units) to 16 (the pack\'s codebook size); leave it empty for the default.'],
    ['Top-k', '2.5', 'Top-k must be a whole number from 0 (all units) to 16'],
    ['Top-k', '-1', 'Top-k must be a whole number'],
  ])('%s %s is refused in the dialog, which stays open and saves nothing', async (label, value, message) => {
    const d = await show(QUANT);
    d.field(label)!.value = value;
    await d.submit();
    expect(d.dialog.querySelector('[role="alert"]')!.textContent).toContain(message);
    expect(d.patches).toEqual([]);
    await d.cancel();
  });

  it('a diffusion pack shows steps and guidance, not temperature and top-k, and keeps the Quant-LCM settings as they were', async () => {
    const d = await show({}, { quantSampling: { temperature: 0 } });
    expect(d.field('Diffusion steps')).toMatchObject({ placeholder: 'pack default: 40' });
    expect(d.field('Guidance scale')).not.toBeNull();
    expect(d.field('Temperature')).toBeNull();
    expect(d.field('Top-k')).toBeNull();
    d.field('Diffusion steps')!.value = '12';
    await d.submit();
    expect(await d.shown).toMatchObject({ settings: { sampling: { inferenceSteps: 12 }, quantSampling: { temperature: 0 } } });
    expect(d.patches[0]).not.toHaveProperty('quantSampling');
  });
});
