import type { ConceptStudioApi } from '../shared/bridge.ts';

declare global {
  interface Window {
    conceptStudio: ConceptStudioApi;
  }
}
export {};
