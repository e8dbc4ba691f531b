/**
 * src/web/journal.ts: numbered events for reconnecting web clients. Numbers
 * start at 1 and rise by one; `since(n)` gives the events after n in order;
 * past the capacity the oldest go, and `since` says how many it lacks.
 */
import { describe, expect, it } from 'vitest';
import { EventJournal } from '../../src/web/journal.ts';

describe('EventJournal', () => {
  it('numbers events from 1 and replays those after a number, oldest first', () => {
    const j = new EventJournal<string>(10);
    expect(j.latest).toBe(0);
    expect(j.since(0)).toEqual({ entries: [], missed: 0 });
    expect(['a', 'b', 'c'].map((e) => j.push(e))).toEqual([1, 2, 3]);
    expect(j.latest).toBe(3);
    expect(j.since(0)).toEqual({ entries: [{ seq: 1, event: 'a' }, { seq: 2, event: 'b' }, { seq: 3, event: 'c' }], missed: 0 });
    expect(j.since(2)).toEqual({ entries: [{ seq: 3, event: 'c' }], missed: 0 });
    expect(j.since(3)).toEqual({ entries: [], missed: 0 });
    expect(j.since(99)).toEqual({ entries: [], missed: 0 }); // beyond the newest: nothing to send
  });

  it('keeps at least the last `capacity` events and counts the ones it dropped', () => {
    const j = new EventJournal<number>(3);
    for (let i = 1; i <= 10; i++) j.push(i * 10);
    // Whatever was trimmed, the last three are always there, and entries + missed = everything asked for.
    for (let since = 0; since <= 10; since++) {
      const { entries, missed } = j.since(since);
      expect(entries.length + missed).toBe(10 - since);
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: entries.length }, (_, k) => 10 - entries.length + 1 + k));
      expect(entries.every((e) => e.event === e.seq * 10)).toBe(true);
      if (since >= 7) expect(missed).toBe(0);
    }
    expect(j.since(0).missed).toBeGreaterThan(0);
  });

  it('refuses a capacity that is not a whole number of at least 1', () => {
    expect(() => new EventJournal(0)).toThrow(/capacity must be a whole number ≥ 1 \(got 0\)/);
    expect(() => new EventJournal(2.5)).toThrow(RangeError);
  });
});
