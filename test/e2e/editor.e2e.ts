/**
 * The editor end to end, in Debian's Chromium through the real web host
 * (`lcm serve` with the tiny fixture pack): outline three concepts, Expand
 * one, Regenerate one and accept a candidate, Summarize, Cancel a running
 * job, Translate the document into Chinese and a concept into Arabic, reload
 * and find everything saved. The fixture pack's weights are random, so the
 * generated text is gibberish: the test checks structure (counts, outline,
 * provenance, languages, persistence), never wording. Screenshots go to
 * test-results/e2e/ (look at them); test/e2e/screenshots/ keeps a few.
 *
 * The steps share one page and run in order (each builds on the one before).
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, TINY_PACK, buildRenderer, launchBrowser, skipReason, startWebHost, type Browser, type WebHost } from './harness.ts';

const skip = skipReason();
if (skip) console.warn(skip);

interface Row { id: string; depth: number; origin: string; language: string; lang: string; dir: string; text: string; jobId: string; blockStart: string }

/** The editor's concepts as the DOM shows them. */
function concepts(page: Page): Promise<Row[]> {
  return page.$$eval('.ProseMirror .concept', (els) => els.map((e) => {
    const d = (e as HTMLElement).dataset;
    return { id: d.id!, depth: Number(d.depth), origin: d.origin!, language: d.language!, lang: e.getAttribute('lang')!, dir: e.getAttribute('dir')!, text: e.textContent!, jobId: d.jobId ?? '', blockStart: d.blockStart! };
  }));
}

/** Screenshots of every run go to test-results/e2e (not committed); test/e2e/screenshots holds a few chosen ones. */
const shot = (page: Page, name: string) => page.screenshot({ path: join(ROOT, 'test-results/e2e', `${name}.png`) });
const saved = (page: Page) => page.locator('.save-state[data-status="saved"]').waitFor({ timeout: 20_000 });
const jobDone = (page: Page, kind: string, phase = 'done') => page.locator(`.job[data-kind="${kind}"][data-phase="${phase}"]`).last().waitFor({ timeout: 90_000 });
const action = (page: Page, name: string) => page.getByRole('toolbar', { name: 'Concept actions' }).getByRole('button', { name, exact: true }).click();
const clickConcept = (page: Page, index: number) => page.locator('.ProseMirror .concept').nth(index).click();

describe.skipIf(skip !== null)('the editor through the web host', () => {
  let host: WebHost;
  let browser: Browser;
  let page: Page;
  let outlineBeforeReload: Row[] = [];
  let originalTitle = '';

  beforeAll(async () => {
    buildRenderer();
    host = await startWebHost();
    browser = await launchBrowser({ width: 1180, height: 760 });
    page = browser.page;
    await page.goto(host.url);
    await page.locator('.ProseMirror .concept').first().waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('creates, renames and deletes documents in the library', async () => {
    // The first start made an empty "Untitled" document and opened it.
    await expect.poll(() => page.locator('.documents .doc').count()).toBe(1);
    await page.getByRole('button', { name: 'Rename Untitled' }).click();
    const input = page.getByRole('textbox', { name: 'New title for Untitled' });
    await input.fill('Concept plan');
    await input.press('Enter');
    await expect.poll(() => page.locator('.doc-heading').textContent()).toBe('Concept plan');
    originalTitle = 'Concept plan';

    await page.getByRole('button', { name: 'New document' }).click();
    await expect.poll(() => page.locator('.documents .doc').count()).toBe(2);
    await page.getByRole('button', { name: 'Delete Untitled' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.locator('.documents .doc').count()).toBe(1);
    await expect.poll(() => page.locator('.doc-heading').textContent()).toBe('Concept plan');
  });

  it('outlines three concepts, one nested', async () => {
    await clickConcept(page, 0);
    await page.keyboard.type('The plan has three parts.');
    await page.keyboard.press('Enter');
    await page.keyboard.type('Each part gets its own paragraph.');
    await page.keyboard.press('Enter');
    await page.keyboard.type('The last part closes the plan.');
    await page.keyboard.press('Tab');
    await saved(page);
    const rows = await concepts(page);
    expect(rows.map((r) => [r.depth, r.text, r.origin])).toEqual([
      [0, 'The plan has three parts.', 'typed'], [0, 'Each part gets its own paragraph.', 'typed'], [1, 'The last part closes the plan.', 'typed'],
    ]);
    expect(new Set(rows.map((r) => r.id)).size).toBe(3);
  });

  it('Expand inserts K concepts under the concept, with their provenance', async () => {
    await clickConcept(page, 0);
    await action(page, 'Expand');
    await jobDone(page, 'expand');
    const rows = await concepts(page);
    expect(rows).toHaveLength(6);
    const made = rows.slice(1, 4);
    expect(made.map((r) => [r.depth, r.origin])).toEqual([[1, 'expanded'], [1, 'expanded'], [1, 'expanded']]);
    expect(new Set(made.map((r) => r.jobId)).size).toBe(1);
    expect(made[0]!.jobId).not.toBe('');
    expect(rows[4]!.text).toBe('Each part gets its own paragraph.');
    await saved(page);
  });

  it('Regenerate shows candidates as suggestions; accepting one replaces the text', async () => {
    const before = await concepts(page);
    await clickConcept(page, 4);
    await action(page, 'Regenerate');
    const box = page.locator('.cs-suggestions');
    await box.waitFor({ timeout: 90_000 });
    const candidates = await box.locator('.cs-candidate-text').allTextContents();
    expect(candidates).toHaveLength(3);
    expect((await concepts(page)).map((r) => r.text)).toEqual(before.map((r) => r.text)); // suggestions are not edits
    await shot(page, 'regenerate-suggestions');
    await box.getByRole('button', { name: 'Accept candidate 2' }).click();
    await expect.poll(async () => (await concepts(page))[4]!.text).toBe(candidates[1]);
    await expect.poll(() => box.count()).toBe(0);
    const after = (await concepts(page))[4]!;
    expect([after.id, after.origin]).toEqual([before[4]!.id, 'generated']);
    // The replaced text is in the concept's history.
    await expect.poll(() => page.locator('.inspector .revisions').textContent(), { timeout: 10_000 }).toContain('Each part gets its own paragraph.');
  });

  it('Summarize adds at most the target length of summarized concepts at the end', async () => {
    const before = await concepts(page);
    await action(page, 'Summarize');
    const dialog = page.getByRole('dialog', { name: 'Summarize' });
    await dialog.getByLabel('The whole document').check();
    await dialog.getByRole('spinbutton').fill('2');
    await dialog.getByRole('button', { name: 'Summarize' }).click();
    await jobDone(page, 'summarize');
    const rows = await concepts(page);
    const added = rows.slice(before.length);
    expect(added.length).toBeGreaterThanOrEqual(1);
    expect(added.length).toBeLessThanOrEqual(2);
    expect(added.every((r) => r.origin === 'summarized' && r.depth === 0)).toBe(true);
    await saved(page);
  });

  it('Fidelity shows the round trip and its score', async () => {
    await clickConcept(page, 0);
    await action(page, 'Fidelity');
    const dialog = page.getByRole('dialog', { name: 'Fidelity' });
    await expect.poll(() => dialog.locator('.fidelity-text').textContent()).toBe('The plan has three parts.');
    expect(await dialog.locator('.fidelity-score').textContent()).toMatch(/chrF \d+(\.\d)?/);
    await shot(page, 'fidelity-dialog');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('Cancel stops a running job; what arrived stays, nothing more comes', async () => {
    // A long job: many diffusion steps (the tiny pack's schedule allows 100) and many concepts.
    await page.getByRole('button', { name: 'Settings' }).click();
    let dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByLabel('Diffusion steps').fill('100');
    await dialog.getByLabel('Continue adds').fill('40');
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await dialog.waitFor({ state: 'detached' });
    const before = (await concepts(page)).length;
    await clickConcept(page, 0);
    await action(page, 'Continue');
    const running = page.locator('.job[data-kind="continue"][data-phase="running"]');
    await running.waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await concepts(page)).length, { timeout: 60_000 }).toBeGreaterThan(before);
    await expect.poll(() => page.locator('.cs-placeholder').count()).toBe(1); // where the next one will go
    await shot(page, 'running-job');
    await running.getByRole('button', { name: 'Cancel' }).click();
    await jobDone(page, 'continue', 'cancelled');
    const placed = (await concepts(page)).length - before;
    expect(placed).toBeLessThan(40);
    await page.waitForTimeout(1500);
    expect((await concepts(page)).length - before).toBe(placed);
    await shot(page, 'cancelled-job');
    // Settings back to the pack's defaults.
    await page.getByRole('button', { name: 'Settings' }).click();
    dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByLabel('Diffusion steps').fill('');
    await dialog.getByLabel('Continue adds').fill('1');
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await dialog.waitFor({ state: 'detached' });
    await saved(page);
  });

  it('Translate a concept into Arabic in place: right to left, the old text kept', async () => {
    await clickConcept(page, 0);
    await action(page, 'Translate');
    const dialog = page.getByRole('dialog', { name: 'Translate' });
    await dialog.getByLabel(/The selection/).check();
    const search = dialog.getByRole('combobox', { name: 'Target language' });
    await search.fill('arb');
    const option = dialog.getByRole('option').first();
    expect(await option.getAttribute('data-code')).toBe('arb_Arab');
    expect(await option.getAttribute('data-supported')).toBe('true');
    await search.press('Enter');
    await jobDone(page, 'translate');
    const first = (await concepts(page))[0]!;
    // dir is "auto" (the text decides; the pack's random weights write gibberish in any script).
    expect([first.language, first.dir, first.lang, first.origin]).toEqual(['arb_Arab', 'auto', 'ar-Arab', 'translated']);
    await saved(page);
  });

  it('the draft view shows the same concepts as paragraphs', async () => {
    const outline = await concepts(page);
    await page.getByRole('button', { name: 'Draft', exact: true }).click();
    expect(await page.locator('.ProseMirror').getAttribute('data-view')).toBe('draft');
    expect(await concepts(page)).toEqual(outline);
    // A concept that continues a paragraph flows inline; a paragraph of one concept is a block.
    const displays = await page.$$eval('.ProseMirror .concept', (els) => els.map((e) => [(e as HTMLElement).dataset.blockStart, getComputedStyle(e).display]));
    expect(displays.filter(([start]) => start === 'false').every(([, d]) => d === 'inline')).toBe(true);
    expect(displays.some(([start]) => start === 'false')).toBe(true);
    expect(displays[0]).toEqual(['true', 'block']); // followed by the Expand's paragraph: a paragraph of its own
    await shot(page, 'draft-view');
    await page.getByRole('button', { name: 'Outline', exact: true }).click();
    outlineBeforeReload = await concepts(page);
  });

  it('Translate the whole document into Chinese: a new document, every concept in zho_Hans', async () => {
    await action(page, 'Translate');
    const dialog = page.getByRole('dialog', { name: 'Translate' });
    await dialog.getByLabel('The whole document').check();
    const search = dialog.getByRole('combobox', { name: 'Target language' });
    await search.fill('Chinese (Simp');
    expect(await dialog.getByRole('option').first().getAttribute('data-code')).toBe('zho_Hans');
    // All 202 languages are in the picker when the search is empty; the pack's 8 are marked.
    await search.fill('');
    expect(await dialog.getByRole('option').count()).toBe(202);
    expect(await dialog.locator('[role=option][data-supported="true"]').count()).toBe(8);
    await shot(page, 'translate-picker');
    await search.fill('zho_Hans');
    await dialog.getByRole('button', { name: 'Translate' }).click();
    await jobDone(page, 'translate');
    await page.getByRole('button', { name: 'Open translation' }).click();
    await expect.poll(() => page.locator('.doc-heading').textContent()).not.toBe(originalTitle);
    const rows = await concepts(page);
    expect(rows.length).toBe(outlineBeforeReload.length);
    expect(rows.map((r) => r.depth)).toEqual(outlineBeforeReload.map((r) => r.depth));
    expect(rows.every((r) => r.language === 'zho_Hans' && r.lang === 'zh-Hans')).toBe(true);
    await shot(page, 'translated-zho-hans');
    expect(await page.locator('.documents .doc').count()).toBe(2);
  });

  it('after a reload everything is there: both documents, every concept with its outline place and provenance', async () => {
    await page.reload();
    await page.locator('.ProseMirror .concept').first().waitFor();
    await page.locator('.doc-open', { has: page.locator('.doc-title', { hasText: new RegExp(`^${originalTitle}$`) }) }).click();
    await expect.poll(() => page.locator('.doc-heading').textContent()).toBe(originalTitle);
    expect(await concepts(page)).toEqual(outlineBeforeReload);
    await shot(page, 'reloaded-outline');
  });

  it('the library finds concepts by words and by meaning', async () => {
    await page.getByRole('searchbox', { name: 'Search the library' }).fill('three parts');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.locator('.library-status').textContent()).toMatch(/^\d+ results? for/);
    await page.getByRole('combobox', { name: 'Search by' }).selectOption('meaning');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.locator('.library-status').textContent()).toMatch(/by meaning/);
    expect(await page.locator('.search-results li').count()).toBeGreaterThan(0);
  });

  it('writing Arabic and Chinese: right to left, each script in its own font, in both views', async () => {
    await page.getByRole('button', { name: 'New document' }).click();
    await expect.poll(() => page.locator('.documents .doc').count()).toBe(3);
    await clickConcept(page, 0);
    await page.getByRole('button', { name: 'Change language' }).click();
    await page.getByRole('combobox', { name: 'Language of this concept' }).fill('arb_Arab');
    await page.keyboard.press('Enter');
    // An empty Arabic concept already runs right to left.
    await expect.poll(async () => (await concepts(page))[0]!.dir).toBe('rtl');
    await clickConcept(page, 0);
    await page.keyboard.type('تبدأ الخطة بثلاثة أجزاء. كل جزء له فقرة.');
    await page.keyboard.press('Enter');
    await page.keyboard.type('English inside an Arabic document.');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Change language' }).click();
    await page.getByRole('combobox', { name: 'Language of this concept' }).fill('zho_Hans');
    await page.keyboard.press('Enter');
    await clickConcept(page, 2);
    await page.keyboard.type('计划分为三个部分，每个部分有一个段落。');
    await saved(page);
    const dirs = await page.$$eval('.ProseMirror .concept', (els) => els.map((e) => [e.matches(':dir(rtl)') ? 'rtl' : 'ltr', getComputedStyle(e).fontFamily.split(',')[0]!.replace(/"/g, '')]));
    // The English line was split from the Arabic one, so it is still declared arb_Arab (the writer changes that in the
    // inspector), but its text runs left to right.
    expect(dirs.map((d) => d[0])).toEqual(['rtl', 'ltr', 'ltr']);
    expect([dirs[0]![1], dirs[2]![1]]).toEqual(['Noto Naskh Arabic', 'Noto Sans CJK SC']);
    await shot(page, 'rtl-cjk-outline');
    await page.getByRole('button', { name: 'Draft', exact: true }).click();
    // Each one-concept paragraph is a block of its own, so the Arabic one is right-aligned.
    expect(await page.locator('.ProseMirror .concept').first().evaluate((e) => [getComputedStyle(e).display, e.matches(':dir(rtl)')])).toEqual(['block', true]);
    await shot(page, 'rtl-cjk-draft');
    await page.getByRole('button', { name: 'Outline', exact: true }).click();
  });

  it('the dark theme applies, and nothing broke the Content-Security-Policy or logged an error', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Settings' });
    await dialog.getByLabel('Theme').selectOption('dark');
    await dialog.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(23, 24, 27)');
    await shot(page, 'dark-theme');
    // "As the system" follows prefers-color-scheme; an explicit Light ignores it.
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const theme = async (value: string) => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await dialog.getByLabel('Theme').selectOption(value);
      await dialog.getByRole('button', { name: 'Save settings' }).click();
      await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme ?? 'system')).toBe(value);
    };
    await page.emulateMedia({ colorScheme: 'dark' });
    await theme('system');
    expect(await background()).toBe('rgb(23, 24, 27)');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background()).toBe('rgb(251, 250, 247)');
    await page.emulateMedia({ colorScheme: 'dark' });
    await theme('light');
    expect(await background()).toBe('rgb(251, 250, 247)');
    await page.emulateMedia({ colorScheme: 'light' });
    await theme('dark');
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it('Models: adds a copy of the tiny pack by path, lists it verified, and shows a clear error for a broken one', async () => {
    const errorsBefore = browser.errors.length;
    const good = join(host.dir, 'incoming', 'tiny');
    const broken = join(host.dir, 'incoming', 'broken');
    cpSync(TINY_PACK, good, { recursive: true });
    cpSync(TINY_PACK, broken, { recursive: true });
    rmSync(join(broken, 'decoder.onnx'));

    await page.getByRole('button', { name: 'Models' }).click();
    const dialog = page.getByRole('dialog', { name: 'Model packs' });
    const packs = dialog.getByRole('list', { name: 'Model packs' });
    // lcm serve --pack PATH: the fixture is loaded by path.
    await packs.getByRole('listitem', { name: 'tiny', exact: true }).waitFor();
    expect(await packs.getByRole('listitem', { name: 'tiny', exact: true }).locator('.pack-badge').allTextContents()).toEqual(['Loaded', 'Opened by path']);

    await dialog.getByLabel('Pack folder').fill(good);
    await dialog.getByLabel('Install as').fill('tiny-copy');
    await dialog.getByRole('button', { name: 'Add pack' }).click();
    const added = packs.getByRole('listitem', { name: 'tiny-copy' });
    await added.waitFor({ timeout: 60_000 });
    expect(await added.getAttribute('data-state')).toBe('verified');
    expect(await added.locator('.pack-state').textContent()).toMatch(/^Verified: every file and graph checked/);
    expect(await added.locator('.pack-facts').textContent()).toBe('tiny-fixture 1.0.0 · 2.0 MB · 8 languages · two-tower-diffusion · SONAR 32-d, 2+2 layers; LCM 48-d, 2+2 layers');
    expect(await added.locator('.pack-badge').allTextContents()).toContain('Installed');
    expect(await dialog.getByRole('status').first().textContent()).toBe('Added tiny-copy: verified and installed.');
    expect(existsSync(join(host.dir, 'user-packs', 'tiny-copy', 'decoder.onnx'))).toBe(true);
    await shot(page, 'models-added');

    await dialog.getByLabel('Pack folder').fill(broken);
    await dialog.getByLabel('Install as').fill('');
    await dialog.getByLabel('Pack folder').press('Enter');
    const alert = dialog.getByRole('alert').filter({ hasText: 'decoder.onnx' });
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.textContent()).toBe(`Model pack \`tiny-fixture\`, file \`decoder.onnx\`: missing (expected at ${join(broken, 'decoder.onnx')}); reinstall or re-export the pack`);
    expect(await packs.getByRole('listitem').count()).toBe(2);
    await shot(page, 'models-broken-pack');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The refused request is the only thing the console reported (Chromium logs a failed fetch).
    expect(browser.errors.slice(errorsBefore).filter((e) => !/Failed to load resource: the server responded with a status of 500/.test(e))).toEqual([]);
  });
});
