// Batch sentence segmentation with the engine's own segmenter (src/inference/text/segmenter.ts), so the
// training data is cut exactly as the app cuts text into concepts.
//
// Usage: node recipe/data/segment.mjs IN.jsonl OUT.jsonl
//   IN: one {"id", "lang", "text"} per line (lang: FLORES-200 code or ISO 639-1 alias).
//   OUT: one {"id", "sentences": [...]} per input line, same order.
// Runs the TypeScript source through tsx (as bin/lcm.mjs does), so it always matches the checkout.
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { register } from 'tsx/esm/api';

register();
const { segmentText } = await import('../../src/inference/text/segmenter.ts');

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) {
  console.error('usage: node recipe/data/segment.mjs IN.jsonl OUT.jsonl');
  process.exit(2);
}
const out = createWriteStream(outPath);
let n = 0;
for await (const line of createInterface({ input: createReadStream(inPath, 'utf8'), crlfDelay: Infinity })) {
  if (!line) continue;
  const { id, lang, text } = JSON.parse(line);
  let sentences;
  try {
    sentences = segmentText(text, { lang }).map((s) => s.text);
  } catch (err) {
    // One bad row must not stop a batch of a million; the caller drops rows that come back null.
    console.error(`segment: row ${id}: ${err instanceof Error ? err.message : String(err)}`);
    sentences = null;
  }
  if (!out.write(`${JSON.stringify({ id, sentences })}\n`)) await new Promise((r) => out.once('drain', r));
  n += 1;
}
await new Promise((r) => out.end(r));
console.error(`segment: ${n} rows`);
