/**
 * The concept's node view: the schema's toDOM, plus one thing toDOM cannot
 * do, keeping the text direction right as the writer types. An empty concept
 * in a right-to-left language starts right to left (so the caret starts on
 * the right); once it has text, the text decides (`dir="auto"`), so English
 * typed into a concept split from an Arabic one reads left to right.
 */
import { DOMSerializer, type Node as PMNode } from 'prosemirror-model';
import type { NodeView, ViewMutationRecord } from 'prosemirror-view';
import { attrsOf, directionOf } from './schema.ts';

export class ConceptView implements NodeView {
  readonly dom: HTMLElement;
  readonly contentDOM: HTMLElement;

  constructor(private node: PMNode) {
    const { dom, contentDOM } = DOMSerializer.renderSpec(document, node.type.spec.toDOM!(node));
    this.dom = dom as HTMLElement;
    this.contentDOM = contentDOM as HTMLElement;
  }

  update(node: PMNode): boolean {
    // Other attributes (language, depth, provenance…) change the markup: let ProseMirror redraw it.
    if (node.type !== this.node.type || node.attrs !== this.node.attrs && JSON.stringify(node.attrs) !== JSON.stringify(this.node.attrs)) return false;
    const dir = directionOf(attrsOf(node).language, node.textContent);
    if (this.dom.getAttribute('dir') !== dir) this.dom.setAttribute('dir', dir);
    this.node = node;
    return true;
  }

  /** Our own `dir` change is not an edit to read back. */
  ignoreMutation(m: ViewMutationRecord): boolean {
    return m.type === 'attributes' && m.target === this.dom;
  }
}

/** The node views of the concept editor. */
export const conceptNodeViews = { concept: (node: PMNode) => new ConceptView(node) };
