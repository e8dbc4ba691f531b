// Batch language identification with fastText's lid.176 model (npm `fasttext.wasm.js`, WebAssembly).
//
// Usage: node recipe/data/langid.mjs PACKAGE_DIR IN.txt OUT.tsv
//   PACKAGE_DIR: the unpacked npm package (the folder holding package.json), fetched by build.py with
//     `npm pack` into $CS_WORK/raw/npm, because the app does not depend on it.
//   IN: one text per line (newlines inside a text already replaced by spaces).
//   OUT: per input line `label1 p1 label2 p2 label3 p3` (fastText's Wikipedia codes: en, fr, zh, …).
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pkgDir, inPath, outPath] = process.argv.slice(2);
if (!pkgDir || !inPath || !outPath) {
  console.error('usage: node recipe/data/langid.mjs PACKAGE_DIR IN.txt OUT.tsv');
  process.exit(2);
}
const { getLIDModel } = await import(pathToFileURL(join(pkgDir, 'dist/main/node.mjs')).href);
const lid = await getLIDModel();
const model = await lid.load();
const out = createWriteStream(outPath);
let n = 0;
for await (const line of createInterface({ input: createReadStream(inPath, 'utf8'), crlfDelay: Infinity })) {
  // fastText reads one line; its predictions are the k most probable labels with probabilities.
  const v = model.predict(line, 3, 0);
  const cells = [];
  for (let i = 0; i < v.size(); i += 1) {
    const [p, label] = v.get(i);
    cells.push(label.replace('__label__', ''), p.toFixed(4));
  }
  if (typeof v.delete === 'function') v.delete();
  if (!out.write(`${cells.join(' ')}\n`)) await new Promise((r) => out.once('drain', r));
  n += 1;
}
await new Promise((r) => out.end(r));
console.error(`langid: ${n} rows`);
