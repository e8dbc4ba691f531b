/** Electron-free: what the app knows about its engine, for the bridge's appInfo channel. */
import type { AppInfo } from '../shared/bridge.ts';
import { availableProviders } from '../inference/backend/ort.ts';
import { ModelPack } from '../inference/pack/loader.ts';
import { resolvePackDir } from '../inference/pack/discover.ts';

/** `packsDir`: the app's bundled packs folder (resources/models, wherever the app is installed). */
export async function appInfo(version: string, packsDir: string): Promise<AppInfo> {
  const providers = availableProviders().map((p) => p.name);
  try {
    const pack = await ModelPack.open(resolvePackDir(undefined, process.env, packsDir), { verifyHashes: false });
    const info = { name: pack.name, languages: pack.languageCodes, embeddingDim: pack.manifest.embeddingDim };
    await pack.close();
    return { version, pack: info, providers };
  } catch (error) {
    return { version, pack: { error: (error as Error).message }, providers };
  }
}
