/**
 * Between the store's concepts and the editor's document: a snapshot is the
 * part of a concept the editor owns (identity, outline place, text, language,
 * block, provenance), in reading order. Autosave diffs two snapshots; opening
 * a document builds the editor's doc from the store's concepts.
 */
import type { Node as PMNode } from 'prosemirror-model';
import type { Concept, JsonObject } from '../../shared/library.ts';
import { newConceptId } from './ids.ts';
import { TYPED, attrsOf, conceptSchema, type ConceptAttrs } from './schema.ts';

/** One concept as the editor owns it; `parentId` follows from the depths of the concepts before it. */
export interface ConceptSnapshot extends ConceptAttrs {
  parentId: string | null;
  text: string;
}

/** The concepts of a document in reading order, with their outline parents. */
export function snapshotOf(doc: PMNode): ConceptSnapshot[] {
  const out: ConceptSnapshot[] = [];
  // ancestors[d] = the id of the latest concept at depth d.
  const ancestors: string[] = [];
  doc.forEach((node) => {
    const a = attrsOf(node);
    const parentId = a.depth > 0 ? (ancestors[a.depth - 1] ?? null) : null;
    ancestors[a.depth] = a.id;
    ancestors.length = a.depth + 1;
    out.push({ ...a, parentId, text: node.textContent });
  });
  return out;
}

/** The store's concept as a snapshot (what autosave compares the editor against). */
export function snapshotFromConcept(c: Concept): ConceptSnapshot {
  return {
    id: c.id, parentId: c.parentId, depth: c.depth, text: c.text, language: c.language,
    block: c.block, blockStart: c.blockStart, marker: c.marker,
    origin: c.origin, pack: c.pack, seed: c.seed, params: c.params, jobId: c.jobId,
  };
}

/** Node attributes of a stored concept. */
export function attrsFromConcept(c: Pick<Concept, keyof ConceptAttrs>): ConceptAttrs {
  return {
    id: c.id, language: c.language, depth: c.depth, block: c.block, blockStart: c.blockStart, marker: c.marker,
    origin: c.origin, pack: c.pack, seed: c.seed, params: c.params, jobId: c.jobId,
  };
}

/** A concept node with text (empty text makes an empty node: ProseMirror has no empty text nodes). */
export function conceptNode(attrs: ConceptAttrs, text: string): PMNode {
  return conceptSchema.nodes.concept!.create(attrs, text === '' ? null : conceptSchema.text(text));
}

/** Attributes of a new concept the writer starts typing. */
export function typedAttrs(language: string, depth = 0, overrides: Partial<ConceptAttrs> = {}): ConceptAttrs {
  return { id: newConceptId(), language, depth, block: 'paragraph', blockStart: true, marker: null, ...TYPED, ...overrides };
}

/**
 * The editor document for a stored document. Depths are taken as stored but
 * clamped to the outline rule (first at 0, at most one deeper than the one
 * before), so a damaged row never breaks the editor. An empty document gets one
 * empty concept to type into (saved once it has been edited).
 */
export function docFromConcepts(concepts: readonly Concept[], language: string): PMNode {
  let prevDepth = -1;
  const nodes = concepts.map((c) => {
    const depth = Math.max(0, Math.min(c.depth, prevDepth + 1));
    prevDepth = depth;
    return conceptNode({ ...attrsFromConcept(c), depth }, c.text);
  });
  if (nodes.length === 0) nodes.push(conceptNode(typedAttrs(language), ''));
  return conceptSchema.nodes.doc!.create(null, nodes);
}

/** Deep equality of JSON values (provenance params). */
export function jsonEqual(a: JsonObject | null | unknown, b: JsonObject | null | unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
