import type { ConceptStudioApi } from '../shared/contract.ts';

declare global {
  interface Window {
    /** The bridge (src/shared/contract.ts): set by the preload in Electron; the web host's page uses src/renderer/bridge/webClient.ts. */
    conceptStudio: ConceptStudioApi;
  }
}
export {};
