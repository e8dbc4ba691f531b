/** Picks the runtime of a pack's LCM architecture (docs/variants.md). */
import type { ModelPack } from '../pack/loader.ts';
import { BaseLcm } from './baseLcm.ts';
import type { ConceptLcm } from './model.ts';
import { OneTowerLcm } from './oneTower.ts';
import { QuantLcm } from './quantLcm.ts';
import { TwoTowerLcm } from './twoTower.ts';

export function openLcm(pack: ModelPack): ConceptLcm {
  const architecture = pack.manifest.lcm.architecture;
  switch (architecture) {
    case 'two-tower-diffusion': return new TwoTowerLcm(pack);
    case 'one-tower-diffusion': return new OneTowerLcm(pack);
    case 'base-mse': return new BaseLcm(pack);
    case 'quant-discrete':
    case 'quant-continuous': return new QuantLcm(pack);
  }
  // The manifest validator allows only the architectures above; a newer app's pack would be refused there first.
  throw new TypeError(`Pack ${pack.name}: unknown LCM architecture ${JSON.stringify(architecture)}.`);
}
