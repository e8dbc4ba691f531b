/**
 * The typed contract between the renderer and the main process. The preload
 * exposes exactly this interface as `window.conceptStudio`; the web host
 * serves the same one over HTTP. The full editor contract arrives with the
 * desktop-app work (issue 5); this is its first channel.
 */

/** What the app reports about itself and its engine. */
export interface AppInfo {
  version: string;
  /** The model pack the engine would load, or why none is available. */
  pack: { name: string; languages: string[]; embeddingDim: number } | { error: string };
  /** Execution providers this onnxruntime build knows. */
  providers: string[];
}

export interface ConceptStudioApi {
  appInfo(): Promise<AppInfo>;
}

/** IPC channel names, one per method. */
export const CHANNELS = { appInfo: 'app:info' } as const;
