// The preload exposes exactly the bridge contract (src/shared/bridge.ts), nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import { CHANNELS, type AppInfo, type ConceptStudioApi } from '../shared/bridge.ts';

const api: ConceptStudioApi = {
  appInfo: () => ipcRenderer.invoke(CHANNELS.appInfo) as Promise<AppInfo>,
};

contextBridge.exposeInMainWorld('conceptStudio', api);
