/**
 * Settings: the engine's (pack, execution provider, sampling: steps and
 * guidance for a diffusion pack, temperature and top-k for a Quant-LCM pack;
 * seed, theme, default language: getSettings/updateSettings) and this
 * renderer's own (how many concepts the actions make: prefs.ts).
 */
import type { AppInfo, Settings } from '../../shared/contract.ts';
import { SONAR_LANGUAGES } from '../../shared/languages.ts';
import { h } from './dom.ts';
import { showModal } from './modal.ts';
import type { Prefs } from './prefs.ts';

const PROVIDERS: Settings['provider'][] = ['cpu', 'cuda', 'tensorrt', 'dml', 'coreml'];
const PROVIDER_NAMES: Record<Settings['provider'], string> = { cpu: 'CPU', cuda: 'CUDA (NVIDIA)', tensorrt: 'TensorRT (NVIDIA)', dml: 'DirectML (Windows)', coreml: 'Core ML (macOS)' };

function numberField(label: string, value: number | undefined, placeholder: string, attrs: Record<string, string | number>): { element: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { type: 'number', value: value ?? '', placeholder, ...attrs });
  return { element: h('label', { class: 'field' }, label, input), input };
}

function optionalNumber(input: HTMLInputElement, what: string, check: (n: number) => boolean, rule: string): number | null {
  if (input.value.trim() === '') return null;
  const n = Number(input.value);
  if (!Number.isFinite(n) || !check(n)) throw new RangeError(`${what} must be ${rule}; leave it empty for the default.`);
  return n;
}

/** How Settings names a pack's LCM design (docs/variants.md); unknown names are shown as they are. */
function architectureName(architecture: string): string {
  const names: Record<string, string> = {
    'two-tower-diffusion': 'Two-Tower diffusion',
    'one-tower-diffusion': 'One-Tower diffusion',
    'base-mse': 'Base-LCM (deterministic: Regenerate gives one candidate; diffusion steps and guidance do not apply)',
    'quant-discrete': 'Quant-LCM, discrete (samples codebook units with a temperature and top-k; diffusion steps and guidance do not apply)',
    'quant-continuous': 'Quant-LCM, continuous (samples codebook units with a temperature and top-k; diffusion steps and guidance do not apply)',
  };
  return names[architecture] ?? architecture;
}

/** Shows the settings; resolves with what was saved, or null when cancelled. */
export async function settingsDialog(options: { info: AppInfo; settings: Settings; prefs: Prefs; save: (patch: Partial<Settings>) => Promise<Settings> }): Promise<{ settings: Settings; prefs: Prefs } | null> {
  const { info, settings, prefs } = options;
  const packDefaults = 'error' in info.pack ? null : info.pack.sampling;
  // Inference steps cannot exceed the pack's training steps T; guidance 1 means off (the engine refuses < 1).
  // A Base-LCM pack has neither (it samples nothing): the settings then wait for a diffusion pack.
  const maxSteps = 'error' in info.pack ? 1000 : info.pack.trainSteps ?? 1000;
  const architecture = 'error' in info.pack ? null : info.pack.architecture;
  const deterministic = architecture === 'base-mse';
  const quant = architecture === 'quant-discrete' || architecture === 'quant-continuous';
  // A Quant-LCM pack: temperature (0 = greedy; the engine's bound is 100) and top-k (0 = all units, at most the codebook size).
  const quantDefaults = 'error' in info.pack ? null : info.pack.quantSampling;
  const maxTopK = ('error' in info.pack ? null : info.pack.codebookSize) ?? 65536;
  const pack = h('input', { type: 'text', value: settings.pack ?? '', placeholder: 'the default pack', spellcheck: 'false' });
  const provider = h('select', {}, ...PROVIDERS.map((p) => h('option', { value: p, selected: p === settings.provider },
    `${PROVIDER_NAMES[p]}${info.providers.includes(p) ? '' : ' — not in this build'}`)));
  const steps = numberField('Diffusion steps ', settings.sampling?.inferenceSteps, packDefaults ? `pack default: ${packDefaults.inferenceSteps}` : '', { min: 1, max: maxSteps, step: 1 });
  const guidance = numberField('Guidance scale ', settings.sampling?.guidanceScale, packDefaults ? `pack default: ${packDefaults.guidanceScale}` : '', { min: 1, max: 20, step: 0.1 });
  const temperature = numberField('Temperature ', settings.quantSampling?.temperature, quantDefaults ? `pack default: ${quantDefaults.temperature}` : '', { min: 0, max: 100, step: 'any' });
  const topK = numberField('Top-k ', settings.quantSampling?.topK, quantDefaults ? `pack default: ${quantDefaults.topK}` : '', { min: 0, max: maxTopK, step: 1 });
  const seed = numberField('Seed ', settings.seed ?? undefined, 'a new seed for every job', { min: 0, max: 4294967295, step: 1 });
  const theme = h('select', {}, ...(['system', 'light', 'dark'] as const).map((t) => h('option', { value: t, selected: t === settings.theme }, t === 'system' ? 'As the system' : t === 'light' ? 'Light' : 'Dark')));
  const language = h('select', {}, ...SONAR_LANGUAGES.map((l) => h('option', { value: l.code, selected: l.code === settings.defaultLanguage }, `${l.name} (${l.code})`)));
  const counts = {
    continueCount: numberField('Continue adds ', prefs.continueCount, '', { min: 1, max: 64, step: 1, required: 'required' }),
    expandCount: numberField('Expand makes ', prefs.expandCount, '', { min: 1, max: 64, step: 1, required: 'required' }),
    regenerateCount: numberField('Regenerate shows ', prefs.regenerateCount, '', { min: 1, max: 16, step: 1, required: 'required' }),
  };
  let result: { settings: Settings; prefs: Prefs } | null = null;
  const ok = await showModal({
    title: 'Settings',
    className: 'settings-dialog',
    body: [
      h('fieldset', {}, h('legend', {}, 'Engine'),
        h('label', { class: 'field' }, 'Model pack ', pack),
        h('label', { class: 'field' }, 'Device ', provider),
        h('p', { class: 'hint' }, `Running on ${info.provider}${'error' in info.pack ? '' : `; the pack's LCM is ${architectureName(info.pack.architecture)}`}. A pack or device change applies to the next job. Add, remove and choose the default pack in Models.`)),
      h('fieldset', {}, h('legend', {}, 'Sampling'),
        ...(deterministic ? [h('p', { class: 'hint' }, 'The loaded pack is a Base-LCM: it predicts each concept deterministically, so steps, guidance and seed apply only to diffusion packs.')] : []),
        ...(quant
          ? [h('p', { class: 'hint' }, 'The loaded pack is a Quant-LCM: it samples each concept unit by unit from its codebooks. Temperature 0 always takes the best unit (the seed then changes nothing); a higher temperature or a larger top-k (0 = all units) gives more varied concepts. Leave a field empty for the pack\'s default. Diffusion steps and guidance apply only to diffusion packs.'),
            temperature.element, topK.element]
          : [steps.element, guidance.element]),
        seed.element),
      h('fieldset', {}, h('legend', {}, 'Actions'), counts.continueCount.element, counts.expandCount.element, counts.regenerateCount.element),
      h('fieldset', {}, h('legend', {}, 'Appearance and language'),
        h('label', { class: 'field' }, 'Theme ', theme),
        h('label', { class: 'field' }, 'New documents in ', language)),
    ],
    submitLabel: 'Save settings',
    onSubmit: async () => {
      // Only the fields shown are saved: a Quant-LCM pack's dialog keeps the diffusion settings as they are, and the other way round.
      const samplingPatch: Pick<Partial<Settings>, 'sampling' | 'quantSampling'> = {};
      if (quant) {
        const t = optionalNumber(temperature.input, 'Temperature', (n) => n >= 0 && n <= 100, 'a number from 0 (greedy: the best unit) to 100');
        const k = optionalNumber(topK.input, 'Top-k', (n) => Number.isInteger(n) && n >= 0 && n <= maxTopK, `a whole number from 0 (all units) to ${maxTopK} (the pack's codebook size)`);
        const q: Partial<Settings['quantSampling'] & object> = {};
        if (t !== null) q.temperature = t;
        if (k !== null) q.topK = k;
        samplingPatch.quantSampling = Object.keys(q).length > 0 ? q : null;
      } else {
        const inferenceSteps = optionalNumber(steps.input, 'Diffusion steps', (n) => Number.isInteger(n) && n >= 1 && n <= maxSteps, `a whole number from 1 to ${maxSteps}`);
        const guidanceScale = optionalNumber(guidance.input, 'Guidance scale', (n) => n >= 1 && n <= 20, 'a number from 1 (off) to 20');
        const sampling: Partial<Settings['sampling'] & object> = {};
        if (inferenceSteps !== null) sampling.inferenceSteps = inferenceSteps;
        if (guidanceScale !== null) sampling.guidanceScale = guidanceScale;
        samplingPatch.sampling = Object.keys(sampling).length > 0 ? sampling : null;
      }
      const seedValue = optionalNumber(seed.input, 'Seed', (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'a whole number from 0 to 4294967295');
      const count = (f: { input: HTMLInputElement }, max: number, what: string) => {
        const n = Number(f.input.value);
        if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`${what} must be a whole number from 1 to ${max}.`);
        return n;
      };
      const nextPrefs: Prefs = {
        ...prefs,
        continueCount: count(counts.continueCount, 64, 'Continue'),
        expandCount: count(counts.expandCount, 64, 'Expand'),
        regenerateCount: count(counts.regenerateCount, 16, 'Regenerate'),
      };
      const saved = await options.save({
        pack: pack.value.trim() === '' ? null : pack.value.trim(),
        provider: provider.value as Settings['provider'],
        ...samplingPatch,
        seed: seedValue,
        theme: theme.value as Settings['theme'],
        defaultLanguage: language.value,
      });
      result = { settings: saved, prefs: nextPrefs };
    },
  });
  return ok ? result : null;
}
