/**
 * `npm run bench:editor`: how the editor feels, measured in Debian's Chromium
 * through the real web host (test/e2e/harness.ts). Prints figures; asserts
 * nothing.
 *
 *   keystroke → paint   ms from a key's keydown to the frame after it (rAF, then a task: the paint has
 *                        happened), typing into a 5,000-concept document, outline and draft views
 *   open                ms from navigation to 5,000 concepts on screen
 *   autosave            ms of one saveEdits round trip after a typing burst
 *   Expand → first      ms from the Expand click to the first new concept in the document, on the pack
 *                        in use (BENCH_PACK=folder, default: the tiny fixture pack), in the large
 *                        document and in a 3-concept one
 *
 * Options (environment): BENCH_PACK, BENCH_CONCEPTS (5000), BENCH_KEYS (120), E2E_SKIP_BUILD=1.
 * Results also go to .bench/editor.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, TINY_PACK, buildRenderer, launchBrowser, skipReason, startWebHost } from '../test/e2e/harness.ts';

const CONCEPTS = Number(process.env.BENCH_CONCEPTS ?? 5000);
const KEYS = Number(process.env.BENCH_KEYS ?? 120);
const PACK = process.env.BENCH_PACK ?? TINY_PACK;

function stats(xs: number[]): { n: number; median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { n: s.length, median: round(at(0.5)), p95: round(at(0.95)), max: round(s[s.length - 1]!) };
}
const round = (x: number) => Math.round(x * 10) / 10;

/** Calls the web host's API as the page does (POST /api/<method> with the run's token). */
async function call<T>(url: string, method: string, body: unknown): Promise<T> {
  const u = new URL(url);
  const res = await fetch(`${u.origin}/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-concept-studio-token': u.searchParams.get('token')! },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} failed (HTTP ${res.status}): ${text}`);
  return JSON.parse(text) as T;
}

/** A document of `n` concepts: sections of a heading and nine sentences under it. */
async function makeDocument(url: string, title: string, n: number): Promise<string> {
  const doc = await call<{ id: string }>(url, 'createDocument', { title, language: 'eng_Latn' });
  const edits = [];
  let prev: string | null = null;
  let heading: string | null = null;
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    const isHeading = i % 10 === 0;
    const concept = isHeading
      ? { id, text: `Section ${i / 10 + 1}: what the plan covers.`, block: 'heading', marker: '##', parentId: null }
      : { id, text: `Sentence ${i} says one thing about the plan and its parts.`, parentId: heading, blockStart: i % 10 === 1 };
    edits.push({ op: 'insert', after: prev, concept });
    if (isHeading) heading = id;
    prev = id;
  }
  await call(url, 'saveEdits', { documentId: doc.id, edits });
  return doc.id;
}

/** Types `keys` characters into the concept at `index` and returns each keystroke's latency to the next frame. */
async function typingLatency(page: Page, index: number, keys: number): Promise<number[]> {
  const concept = page.locator('.ProseMirror .concept').nth(index);
  await concept.scrollIntoViewIfNeeded();
  await concept.click();
  await page.keyboard.press('End');
  await page.evaluate(() => {
    const w = window as unknown as { latencies: number[]; measuring?: boolean };
    w.latencies = [];
    if (w.measuring) return;
    w.measuring = true;
    document.addEventListener('keydown', (e) => {
      const t0 = e.timeStamp;
      // rAF runs before the frame is painted; a task queued from it runs after.
      requestAnimationFrame(() => setTimeout(() => w.latencies.push(performance.now() - t0), 0));
    }, true);
  });
  const text = ' and the next words follow it';
  for (let i = 0; i < keys; i++) await page.keyboard.type(text[i % text.length]!, { delay: 0 }).then(() => page.waitForTimeout(40));
  await page.waitForTimeout(300);
  return page.evaluate(() => (window as unknown as { latencies: number[] }).latencies);
}

/** Clicks Expand on the concept at `index`; ms until the first expanded concept is in the document. */
async function expandToFirst(page: Page, index: number): Promise<number> {
  const concept = page.locator('.ProseMirror .concept').nth(index);
  await concept.scrollIntoViewIfNeeded();
  await concept.click();
  const ms = await page.evaluate(() => new Promise<number>((resolve, reject) => {
    const pm = document.querySelector('.ProseMirror')!;
    const before = new Set([...pm.querySelectorAll('.concept[data-origin="expanded"]')]);
    const timer = setTimeout(() => reject(new Error('no expanded concept within 120 s')), 120_000);
    let t0 = 0;
    const observer = new MutationObserver(() => {
      if ([...pm.querySelectorAll('.concept[data-origin="expanded"]')].some((e) => !before.has(e))) {
        const t = performance.now() - t0;
        observer.disconnect();
        clearTimeout(timer);
        resolve(t);
      }
    });
    observer.observe(pm, { childList: true, subtree: true });
    const button = [...document.querySelectorAll<HTMLButtonElement>('[role=toolbar] button')].find((b) => b.textContent === 'Expand')!;
    t0 = performance.now();
    button.click();
  }));
  await page.waitForFunction(() => !document.querySelector('.job[data-phase="running"], .job[data-phase="starting"]'), null, { timeout: 120_000 });
  return ms;
}

async function main(): Promise<void> {
  const skip = skipReason();
  if (skip) {
    console.log(skip.replace('end-to-end tests were', 'editor bench was'));
    return;
  }
  buildRenderer();
  const host = await startWebHost(PACK);
  const browser = await launchBrowser({ width: 1280, height: 900 });
  const page = browser.page;
  const results: Record<string, unknown> = { pack: PACK, concepts: CONCEPTS, keys: KEYS, chromium: browser.context.browser()?.version() ?? 'chromium' };
  try {
    const big = await makeDocument(host.url, 'Bench: large', CONCEPTS);
    const small = await makeDocument(host.url, 'Bench: small', 3);

    const t0 = Date.now();
    await page.goto(`${host.url}#doc=${big}`);
    await page.waitForFunction((n) => document.querySelectorAll('.ProseMirror .concept').length === n, CONCEPTS, { timeout: 120_000 });
    results.openMs = Date.now() - t0;

    results.outline = stats(await typingLatency(page, Math.floor(CONCEPTS / 2), KEYS));
    // Autosave of that burst: the round trip of one saveEdits (the status goes Saving… → Saved).
    const s0 = Date.now();
    await page.evaluate(() => (document.querySelector('.ProseMirror') as HTMLElement).blur());
    await page.locator('.save-state[data-status="saved"]').waitFor({ timeout: 60_000 });
    results.autosaveMs = Date.now() - s0;

    await page.getByRole('button', { name: 'Draft', exact: true }).click();
    results.draft = stats(await typingLatency(page, Math.floor(CONCEPTS / 3), KEYS));
    await page.getByRole('button', { name: 'Outline', exact: true }).click();

    const expandBig: number[] = [];
    for (const i of [20, Math.floor(CONCEPTS / 2), CONCEPTS - 5]) expandBig.push(await expandToFirst(page, i));
    results.expandLargeMs = expandBig.map(round);

    await page.goto(`${host.url}#doc=${small}`);
    await page.locator('.ProseMirror .concept').first().waitFor();
    const expandSmall: number[] = [];
    for (const i of [0, 0, 0]) expandSmall.push(await expandToFirst(page, i));
    results.expandSmallMs = expandSmall.map(round);
  } finally {
    await browser.close();
    await host.stop();
  }
  console.log(`Editor bench: ${CONCEPTS} concepts, pack ${PACK}`);
  console.log(`  open (navigation → all concepts shown)   ${results.openMs} ms`);
  for (const view of ['outline', 'draft'] as const) {
    const s = results[view] as ReturnType<typeof stats>;
    console.log(`  keystroke → paint, ${view.padEnd(8)}        median ${s.median} ms, p95 ${s.p95} ms, max ${s.max} ms (${s.n} keys)`);
  }
  console.log(`  autosave round trip after typing          ${results.autosaveMs} ms`);
  console.log(`  Expand → first concept, large document    ${(results.expandLargeMs as number[]).join(', ')} ms`);
  console.log(`  Expand → first concept, 3-concept doc     ${(results.expandSmallMs as number[]).join(', ')} ms`);
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  writeFileSync(join(ROOT, '.bench/editor.json'), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
