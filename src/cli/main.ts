#!/usr/bin/env node
/**
 * `lcm`: the concept engine on the command line, for scripts, batch jobs and
 * machines without a display. Exit codes: 0 ok, 1 failure (bad pack, bad
 * input, inference error), 2 wrong usage, 130 cancelled (Ctrl-C).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError, isCancellation } from '../inference/errors.ts';
import { parse } from './args.ts';
import * as commands from './commands.ts';
import * as storeCommands from './storeCommands.ts';
import { packsCommand } from './packsCommands.ts';
import { serveCommand } from './serveCommand.ts';
import { evalCommand } from './evalCommand.ts';
import { curvesCommand } from './curvesCommand.ts';
import { StoreError } from '../main/store/errors.ts';
import { consoleOutput, UsageError } from './io.ts';

export const USAGE = `Usage: lcm <command> [FILE] [options]   (FILE or standard input)

Commands
  segment     split text into concepts (sentences, capped at --max-chars, default 200)
  encode      sentences → JSON lines {text, lang, embedding}
  decode      JSON lines with "embedding" → text in --target-lang (or --lang)
  translate   text in --lang → text in --target-lang, sentence by sentence
  roundtrip   encode → decode each sentence, with its chrF fidelity score
  fragility   each sentence's fragility (the LCM paper's): mean BLEU, chrF and cosine of its round trips
              through √(1−α)·normalized + √α·noise, α = 0.1/0.3/0.5/0.7/0.9 (--count N samples per
              level, default 2; --seed, default 0)
  continue    generate --count concepts after the input document
  expand      develop one concept (--index, default the last) into --count concepts
  summarize   condense the input into at most --count concepts
  schedule    a noise schedule's cumulative alphas and inference timesteps as JSON
              (--kind cosine|linear|quadratic|sigmoid, --train-steps, --inference-steps, --spacing)
  packs       list the model packs, fully verified (every file and graph), the default marked with *
  packs add FOLDER [--name NAME] [--default] [--link] [--force]
              verify a pack folder and copy it into the user packs folder (--link: use it where it
              is; --force: replace a pack of that name); --default makes it the default
  packs remove NAME | packs default [NAME]
              remove an installed pack (a linked one's folder is kept) | show or set the default
              (order: --pack, $CONCEPT_STUDIO_PACK, this default, the bundled default; docs/model-pack.md)
  eval        run the held-out suites (resources/eval) on --pack and write a Markdown report with SVG
              charts and report.json to --out (default docs/eval/<pack name>): --suites LIST (of
              roundtrip, translate, next, summarize, expand, segmenters; default all), --limit N items
              per language, --seed S; decodes greedily unless --beam N (docs/evaluation.md)
  curves RUN  the training curves of a recipe run folder ($CS_WORK/runs/<stage>: loss.tsv, eval.tsv)
              as SVG charts and curves.md in --out (default RUN/curves) (docs/recipe.md)

Library (all take --db PATH; default $CONCEPT_STUDIO_DB, else the app's own library:
~/.config/Concept Studio/library.sqlite on Linux, ~/Library/Application Support/Concept Studio/
on macOS, %APPDATA%\\Concept Studio\\ on Windows)
  import      add FILE (.md Markdown, .json, else plain text; or --format) as a document
              (--title, --lang); computes embeddings with --pack (else the default pack if any)
  export      print document DOC as --format markdown (default), text or json
              (--embeddings base64|array|none for json)
  docs        list the documents in the library
  search      concepts containing QUERY (--doc DOC, --lang CODE, --limit N); --semantic: nearest
              in meaning by the pack's embeddings (--query-lang CODE, --exact)
  embed       compute the embeddings that document DOC (or every document) lacks, with --pack

Editor in a browser
  serve       serve the built editor (out/renderer) and its API on 127.0.0.1 (--port N, default any
              free port; --db PATH; --pack); prints the URL to open, with this run's token

Options
  --pack NAME|PATH     model pack (default: the bundled default, or $CONCEPT_STUDIO_PACK)
  --lang CODE          language of the input (FLORES-200 code like eng_Latn, or ISO like en)
  --target-lang CODE   language to write output in
  --lines              each input line is one sentence: no segmentation, one output line per input line
  --seed N             seed for generation (same seed → same output)
  --steps N            diffusion inference steps (the reference's trailing spacing runs floor(T/N) strides)
  --exact-steps        run exactly --steps steps instead
  --guidance G         classifier-free guidance scale (1 = off)
  --temperature T      Quant-LCM packs: unit sampling temperature per codebook (0 = greedy)
  --top-k K            Quant-LCM packs: sample among the K best units of each codebook (0 = all)
  --count N            concepts to generate
  --beam N | --greedy  decoder search (default: beam 5)
  --provider NAME      cpu (default), cuda, tensorrt, dml, coreml; falls back to CPU and says so
  --threads N          onnxruntime intra-op threads
  --no-verify          skip SHA-256 checks of pack files (sizes are still checked)
  --json               machine-readable output (JSON lines)
  -h, --help           this help`;

const COMMANDS: Record<string, (ctx: commands.CommandContext) => Promise<void> | void> = {
  segment: commands.segmentCommand,
  encode: commands.encodeCommand,
  decode: commands.decodeCommand,
  translate: commands.translateCommand,
  roundtrip: commands.roundtripCommand,
  fragility: commands.fragilityCommand,
  continue: commands.continueCommand,
  expand: commands.expandCommand,
  summarize: commands.summarizeCommand,
  schedule: commands.scheduleCommand,
  packs: packsCommand,
  import: storeCommands.importCommand,
  export: storeCommands.exportCommand,
  docs: storeCommands.docsCommand,
  search: storeCommands.searchCommand,
  embed: storeCommands.embedCommand,
  serve: serveCommand,
  eval: evalCommand,
  curves: curvesCommand,
};

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const { values: flags, positionals } = parse(argv);
    const [name, file, ...rest] = positionals;
    if (flags.help || !name) {
      process.stdout.write(`${USAGE}\n`);
      return name || flags.help ? 0 : 2;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`Unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    if (rest.length && command !== packsCommand) throw new UsageError(`Unexpected arguments: ${rest.join(' ')} (give at most one FILE).`);
    await command({ flags, file, args: positionals.slice(1), out: consoleOutput(), signal: controller.signal });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (isCancellation(error)) {
      process.stderr.write('lcm: cancelled\n');
      return 130;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`lcm: ${error.message}\nRun \`lcm --help\` for usage.\n`);
      return 2;
    }
    if (error instanceof EngineError || error instanceof StoreError || error instanceof RangeError || error instanceof TypeError) {
      process.stderr.write(`lcm: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`lcm: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

// Run when executed as a script (`tsx src/cli/main.ts`); bin/lcm.mjs imports main() instead.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
