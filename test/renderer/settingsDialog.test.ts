// @vitest-environment happy-dom
// Settings names the loaded pack's LCM design and says which sampling settings apply to it.
import { describe, expect, it } from 'vitest';
import { FakeBridge } from '../../src/renderer/bridge/fakeBridge.ts';
import { DEFAULT_PREFS } from '../../src/renderer/ui/prefs.ts';
import { settingsDialog } from '../../src/renderer/ui/settingsDialog.ts';

async function open(architecture: string) {
  const api = new FakeBridge();
  const info = await api.appInfo();
  const pack = 'error' in info.pack ? null : { ...info.pack, architecture, sampling: null, trainSteps: null };
  const shown = settingsDialog({ info: { ...info, pack: pack! }, settings: await api.getSettings(), prefs: DEFAULT_PREFS, save: (p) => api.updateSettings(p) });
  const text = document.querySelector('dialog')!.textContent!;
  document.querySelector<HTMLButtonElement>('dialog button[value="cancel"]')!.click();
  expect(await shown).toBeNull();
  return text;
}

describe('settings: the pack\'s LCM design', () => {
  it('a Quant-LCM pack is named as such (not as a Base-LCM), with what applies to it', async () => {
    const text = await open('quant-discrete');
    expect(text).toContain('the pack\'s LCM is Quant-LCM, discrete (samples codebook units with the pack\'s temperature and top-k');
    expect(text).toContain('The loaded pack is a Quant-LCM: it samples each concept unit by unit');
    expect(text).not.toContain('is a Base-LCM');
  });
  it('a Base-LCM pack keeps its own hint', async () => {
    const text = await open('base-mse');
    expect(text).toContain('The loaded pack is a Base-LCM: it predicts each concept deterministically');
    expect(text).not.toContain('Quant-LCM');
  });
});
