/**
 * The bridge the renderer talks to: in Electron the preload's
 * `window.conceptStudio`, in a browser the web host's client over HTTP and
 * WebSocket (webClient.ts). Nothing else in the renderer knows which.
 */
import type { ConceptStudioApi } from '../../shared/contract.ts';

/** What the page hears about the web host's event socket (never in Electron, where the bridge is in-process). */
export interface ConnectionHooks {
  /** The socket dropped (false) or is back (true). */
  onConnectionChange?: (connected: boolean) => void;
  /** After a reconnect: events the server no longer held (job output that did not reach the page). */
  onEventsMissed?: (count: number) => void;
}

/** The bridge for this page. */
export async function connectBridge(hooks: ConnectionHooks = {}): Promise<ConceptStudioApi> {
  const preload = (window as { conceptStudio?: ConceptStudioApi }).conceptStudio;
  if (preload) return preload;
  const { createWebClient } = await import('./webClient.ts');
  return createWebClient(hooks);
}
