// ESLint flat config. The important part is the layering rule (docs/architecture.md):
// - the renderer is web code: it never imports electron, node:*, src/main or src/inference;
// - src/inference is plain Node: it never imports electron or the layers above it, so it runs in tests,
//   workers, the CLI and the app;
// - src/shared holds types and pure data that every side imports;
// - exactly one module (src/inference/backend/ort.ts) imports onnxruntime-node.
// Flat config replaces (does not merge) a rule's options when two blocks match one file, so every
// layer gets exactly one block with its complete list.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'os', 'child_process', 'worker_threads', 'crypto', 'url', 'util', 'stream', 'events', 'net', 'http', 'https', 'zlib', 'readline', 'buffer', 'process'];
const ELECTRON = { group: ['electron', 'electron/*'], message: 'Only src/main and src/preload import electron.' };
const NODE = { group: ['node:*', ...nodeBuiltins], message: 'Web code: no Node built-ins.' };
const ORT = { group: ['onnxruntime-node', 'onnxruntime-common'], message: 'Only src/inference/backend/ort.ts imports onnxruntime.' };
const up = (...layers) => ({ group: layers.map((l) => `**/${l}/**`), message: `This layer must not import ${layers.join(', ')}.` });
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['.bench/**', 'out/**', 'dist/**', 'release/**', 'node_modules/**', 'recipe/**', 'resources/**', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Pass a seeded Rng (src/inference/rng.ts) instead of Math.random.' }],
    },
  },
  { files: ['src/renderer/**/*.ts'], rules: restrict(ELECTRON, NODE, ORT, up('main', 'inference', 'cli', 'preload'), { group: ['better-sqlite3'], message: 'The renderer reaches the store through the bridge.' }) },
  { files: ['src/shared/**/*.ts'], rules: restrict(ELECTRON, NODE, ORT, up('main', 'inference', 'cli', 'preload', 'renderer')) },
  { files: ['src/inference/**/*.ts'], ignores: ['src/inference/backend/ort.ts'], rules: restrict(ELECTRON, ORT, up('main', 'cli', 'preload', 'renderer')) },
  { files: ['src/inference/backend/ort.ts'], rules: restrict(ELECTRON, up('main', 'cli', 'preload', 'renderer')) },
  { files: ['src/cli/**/*.ts'], rules: restrict(ELECTRON, ORT, up('renderer', 'preload')) },
  // Only the window, the menu and the preload import electron; the rest of src/main is shared with the web host and the CLI.
  { files: ['src/main/index.ts', 'src/main/menu.ts'], rules: restrict(ORT, up('renderer')) },
  // The store, the services, the IPC adapter and the engine host are Electron-free (docs/app.md).
  { files: ['src/main/**/*.ts'], ignores: ['src/main/index.ts', 'src/main/menu.ts'], rules: restrict(ELECTRON, ORT, up('renderer', 'preload', 'cli', 'web')) },
  // The web host: Node, Electron-free; it serves the same services over HTTP and a WebSocket.
  { files: ['src/web/**/*.ts'], rules: restrict(ELECTRON, ORT, up('renderer', 'preload', 'cli')) },
  { files: ['src/preload/**/*.ts'], rules: restrict(NODE, ORT, up('main', 'inference', 'cli', 'renderer')) },
  // The evaluation suites and report writer (`lcm eval`, docs/evaluation.md): plain Node over src/inference, Electron-free.
  { files: ['src/eval/**/*.ts'], rules: restrict(ELECTRON, ORT, up('main', 'cli', 'preload', 'renderer', 'web')) },
);
