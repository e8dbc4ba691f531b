/**
 * One line for every write the editor sends to the store (autosave batches,
 * accepted candidates, reverts, job starts that need the latest text saved):
 * each runs after the previous one settles, so a batch computed from the
 * editor never races an accept or a revert of the same concept.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it; its result or error is the caller's. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
