/**
 * Resident memory of the app with a 5,000-concept document open, measured
 * from outside: bench/editor.ts (unchanged) runs as a child process with the
 * pack under test; it starts the real web host (`lcm serve`: the app's main
 * side, store and engine worker thread in one Node process) and drives
 * Chromium through opening a 5,000-concept document, typing and three Expands.
 * Meanwhile this samples /proc every 500 ms:
 *
 *   host      the `lcm serve` process: VmHWM (the kernel's RSS high-water mark) and VmRSS
 *   browser   every Chromium process of the run: the sum of their PSS (shared pages counted once
 *             across them) and of their RSS (shared pages counted in each)
 *
 * The Electron app has the same parts (main + engine worker, and a Chromium
 * renderer with its browser and GPU processes), so host + browser is how much
 * the app holds. Linux only (/proc).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './torch.ts';

export interface AppMemory {
  pack: string;
  concepts: number;
  /** Peak over the run, MiB. */
  hostHwmMiB: number;
  hostRssMiB: number;
  browserPssMiB: number;
  browserRssMiB: number;
  browserProcesses: number;
  /** host VmHWM + browser peak PSS. */
  totalMiB: number;
  /** The editor bench's own figures (.bench/editor.json), Expand → first concept among them. */
  editor: Record<string, unknown> | null;
}

function readStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const m = /^(VmRSS|VmHWM):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
  } catch {
    // the process ended between listing and reading
  }
  return out;
}

function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** pid → parent pid of every process. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the parent pid; the command name (field 2) may hold spaces and parentheses.
      map.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  return map;
}

function descendants(root: number): number[] {
  const ppid = parents();
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    for (const [pid, parent] of ppid) {
      if (parent === p) {
        out.push(pid);
        todo.push(pid);
      }
    }
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Why the measurement cannot run here, or null. */
export function appMemorySkipReason(): string | null {
  if (!existsSync('/proc/self/status')) return 'no /proc (Linux only)';
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) return `no Chromium at ${chromium} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  return null;
}

export async function measureAppMemory(pack: string, concepts = 5000): Promise<AppMemory> {
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'bench/editor.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BENCH_PACK: pack, BENCH_CONCEPTS: String(concepts), BENCH_KEYS: process.env.BENCH_KEYS ?? '30' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const peak = { hostHwm: 0, hostRss: 0, browserPss: 0, browserRss: 0, browserProcesses: 0 };
  const sample = () => {
    if (child.pid === undefined) return;
    let pss = 0;
    let rss = 0;
    let n = 0;
    for (const pid of descendants(child.pid)) {
      const cmd = cmdline(pid);
      if (/lcm\.mjs serve/.test(cmd)) {
        const s = readStatus(pid);
        peak.hostHwm = Math.max(peak.hostHwm, s.VmHWM ?? 0);
        peak.hostRss = Math.max(peak.hostRss, s.VmRSS ?? 0);
      } else if (/chrom/i.test(cmd)) {
        pss += pssKiB(pid);
        rss += readStatus(pid).VmRSS ?? 0;
        n++;
      }
    }
    if (pss > peak.browserPss) {
      peak.browserPss = pss;
      peak.browserProcesses = n;
    }
    peak.browserRss = Math.max(peak.browserRss, rss);
  };
  const timer = setInterval(sample, 500);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`bench/editor.ts exited with status ${code}: ${err.trim().split('\n').slice(-8).join('\n')}`);
  if (/SKIPPED|was SKIPPED|editor bench was/.test(out) && peak.hostHwm === 0) throw new Error(out.trim());
  process.stdout.write(out.replace(/^/gm, '  '));
  const editorJson = join(ROOT, '.bench/editor.json');
  const editor = existsSync(editorJson) ? (JSON.parse(readFileSync(editorJson, 'utf8')) as Record<string, unknown>) : null;
  const mib = (kib: number) => kib / 1024;
  return {
    pack,
    concepts,
    hostHwmMiB: mib(peak.hostHwm),
    hostRssMiB: mib(peak.hostRss),
    browserPssMiB: mib(peak.browserPss),
    browserRssMiB: mib(peak.browserRss),
    browserProcesses: peak.browserProcesses,
    totalMiB: mib(peak.hostHwm + peak.browserPss),
    editor,
  };
}
