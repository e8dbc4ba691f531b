/**
 * Concept ids made in the renderer: the editor owns the document, so it names
 * new concepts itself and the store keeps those ids (ConceptEdit `insert`).
 * `crypto.randomUUID` needs a secure context; the app's pages (file:// in
 * Electron, http://127.0.0.1 from the web host) are one, and the fallback
 * covers anything else with the same 122 random bits.
 */
export function newConceptId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4 (RFC 9562 §5.4)
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
