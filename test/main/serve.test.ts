/**
 * `lcm serve` as a writer runs it: it prints the URL (with the token) as the
 * first line of standard output, serves the API there on 127.0.0.1, refuses
 * requests without the token, and stops cleanly (exit 0) on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX_CLI = join(createRequire(import.meta.url).resolve('tsx/package.json'), '..', 'dist', 'cli.mjs');

it('prints the URL with the token, serves the API, refuses a request without the token and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-serve-'));
  const db = join(dir, 'library.sqlite');
  const env = { ...process.env, CONCEPT_STUDIO_PACK: join(dir, 'no-pack') };
  const child = spawn(process.execPath, [TSX_CLI, 'src/cli/main.ts', 'serve', '--db', db, '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`lcm serve exited with ${code}: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const { origin, searchParams } = new URL(url);
    const token = searchParams.get('token')!;

    const created = await fetch(`${origin}/api/createDocument`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-concept-studio-token': token }, body: JSON.stringify({ title: 'Served', language: 'eng_Latn' }) });
    expect(created.status).toBe(200);
    expect(((await created.json()) as { title: string }).title).toBe('Served');
    const info = (await (await fetch(`${origin}/api/appInfo?token=${token}`, { method: 'POST' })).json()) as { host: string; pack: { error?: string } };
    expect(info.host).toBe('web');
    expect(info.pack.error).toMatch(/no pack folder at .*no-pack/);
    expect((await fetch(`${origin}/api/listDocuments`, { method: 'POST' })).status).toBe(401);
    expect(stderr).toMatch(/lcm serve: library .*library\.sqlite; open the URL above/);

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
