/**
 * The bridge the renderer talks to: in Electron the preload's
 * `window.conceptStudio`, in a browser the web host's client over HTTP and
 * WebSocket (webClient.ts). Nothing else in the renderer knows which.
 */
import type { ConceptStudioApi } from '../../shared/contract.ts';

/**
 * The bridge for this page. `onConnectionChange` hears when the web host's
 * event socket drops and comes back (never in Electron, where the bridge is
 * in-process).
 */
export async function connectBridge(onConnectionChange?: (connected: boolean) => void): Promise<ConceptStudioApi> {
  const preload = (window as { conceptStudio?: ConceptStudioApi }).conceptStudio;
  if (preload) return preload;
  const { createWebClient } = await import('./webClient.ts');
  return createWebClient(onConnectionChange ? { onConnectionChange } : {});
}
