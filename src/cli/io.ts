/** Input and output helpers for the `lcm` command line. */
import { readFile } from 'node:fs/promises';

/** Thrown for wrong usage: printed with a hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Reads FILE, or standard input when FILE is "-" or absent and stdin is piped. */
export async function readInput(file: string | undefined, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (file && file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
    }
  }
  if (!file && stdin.isTTY) throw new UsageError('No input: give a FILE argument or pipe text into standard input.');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The lines of `text` without the final newline's empty line. */
export function inputLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export interface Output {
  line(text: string): void;
  json(value: unknown): void;
  progress(text: string): void;
  done(): void;
}

/** Writes results to stdout; progress goes to stderr, and only when stderr is a terminal. */
export function consoleOutput(stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Output {
  let progressShown = false;
  const clear = () => {
    if (progressShown) stderr.write('\r\x1b[K');
    progressShown = false;
  };
  return {
    line(text) {
      clear();
      stdout.write(`${text}\n`);
    },
    json(value) {
      clear();
      stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))}\n`);
    },
    progress(text) {
      if (!stderr.isTTY) return;
      stderr.write(`\r\x1b[K${text}`);
      progressShown = true;
    },
    done: clear,
  };
}
