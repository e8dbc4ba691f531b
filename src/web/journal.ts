/**
 * The web host's recent events, numbered, so a browser whose event socket
 * dropped (a sleeping laptop, an SSH tunnel that hiccuped) gets what it
 * missed when it reconnects. A job's generated concepts reach the document
 * only through its events (the editor inserts them), so a lost event would
 * be lost work.
 *
 * Every event gets the next sequence number (1, 2, …). A reconnecting client
 * asks for the events after the last number it saw; the journal keeps at
 * least the last `capacity` events, and says how many of the asked-for ones
 * it no longer has.
 */
export interface Numbered<E> {
  seq: number;
  event: E;
}

export class EventJournal<E> {
  private entries: Numbered<E>[] = [];
  private next = 1;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`EventJournal capacity must be a whole number ≥ 1 (got ${capacity}).`);
  }

  /** The number of the newest event (0 before the first). */
  get latest(): number {
    return this.next - 1;
  }

  /** Records `event`; returns its number. */
  push(event: E): number {
    const seq = this.next++;
    this.entries.push({ seq, event });
    // Trim in chunks (at twice the capacity back to the capacity), so a push stays O(1) on average.
    if (this.entries.length >= 2 * this.capacity) this.entries = this.entries.slice(-this.capacity);
    return seq;
  }

  /**
   * The events numbered after `seq`, oldest first, and how many of those the
   * journal no longer holds. A `seq` beyond the newest asks for nothing.
   */
  since(seq: number): { entries: Numbered<E>[]; missed: number } {
    if (seq >= this.latest) return { entries: [], missed: 0 };
    const first = this.entries[0]?.seq ?? this.next;
    const missed = Math.max(0, first - seq - 1);
    const from = Math.max(0, seq + 1 - first);
    return { entries: this.entries.slice(from), missed };
  }
}
