/**
 * Where generated concepts sit in the outline, and how a translated document
 * copies its original's structure. The renderer places generated concepts
 * at its placeholder and may change these; they are the defaults that make
 * the concept read right when saved as they are:
 *
 * - continue after a heading: paragraphs under the heading (the first starts
 *   a paragraph); after a paragraph or a list item: more of the same block,
 *   beside it; after code, or at the start: a new top-level paragraph;
 * - expand: under the concept; sub-items of a list item, else one paragraph;
 * - summarize: one new top-level paragraph.
 */
import type { Block, Concept, JsonObject, NewConcept } from '../../shared/library.ts';
import { newId } from '../store/ids.ts';

/** A concept with visible text: the only kind the engine can encode. */
export const usable = (c: { text: string }): boolean => c.text.trim().length > 0;

interface JobProvenance {
  id: string;
  pack: string;
  seed: number;
  jobId: string;
  /** The job's sampling overrides (`sampling`, `quantSampling`), kept in the concept's params; none = the pack's defaults. */
  overrides?: JsonObject;
}

const ORIGIN = { continue: 'generated', expand: 'expanded', summarize: 'summarized' } as const;

export function generated(
  kind: 'continue' | 'expand' | 'summarize',
  anchor: Concept | null,
  c: { index: number; text: string; lang: string },
  p: JobProvenance,
): NewConcept & { id: string } {
  const first = c.index === 0;
  let parentId: string | null = null;
  let block: Block = 'paragraph';
  let blockStart = first;
  let marker: string | null = null;
  if (kind === 'continue' && anchor) {
    if (anchor.block === 'heading') parentId = anchor.id;
    else if (anchor.block === 'code') parentId = anchor.parentId;
    else {
      parentId = anchor.parentId;
      block = anchor.block;
      blockStart = false;
    }
  } else if (kind === 'expand' && anchor) {
    parentId = anchor.id;
    if (anchor.block === 'item') {
      block = 'item';
      blockStart = true;
      marker = anchor.marker ?? '-';
    }
  }
  return {
    id: p.id,
    text: c.text,
    language: c.lang,
    parentId,
    block,
    blockStart,
    marker,
    origin: ORIGIN[kind],
    pack: p.pack,
    seed: p.seed,
    params: { kind, index: c.index, ...p.overrides },
    jobId: p.jobId,
  };
}

/**
 * The concepts of a translated copy, in order, with new ids: the same outline
 * and blocks, the translated text where there is one (code and empty
 * concepts are copied as they are).
 */
export function translatedCopy(
  concepts: readonly Concept[],
  texts: ReadonlyMap<string, string>,
  target: string,
  p: Omit<JobProvenance, 'id'>,
  makeId: () => string = () => newId(),
): NewConcept[] {
  const ids = new Map(concepts.map((c) => [c.id, makeId()]));
  return concepts.map((c) => {
    const text = texts.get(c.id);
    return {
      id: ids.get(c.id)!,
      text: text ?? c.text,
      language: text === undefined ? c.language : target,
      // A parent outside the copied concepts (a selection) leaves the copy at the top level.
      parentId: c.parentId ? (ids.get(c.parentId) ?? null) : null,
      block: c.block,
      blockStart: c.blockStart,
      marker: c.marker,
      origin: 'translated',
      pack: p.pack,
      seed: p.seed,
      params: { kind: 'translate', source: c.id, sourceLanguage: c.language },
      jobId: p.jobId,
    };
  });
}
