/**
 * The job records: every generation (continue, regenerate, expand, summarize,
 * translate) and every batch of work (import, encode) is a job with a status,
 * a progress and, when it failed, the error. Concepts and candidates a job
 * made point to it. The engine host updates a job as it runs; a job left
 * queued or running by a process that died is marked failed by
 * `failInterrupted()`, which the app calls once at start-up (not at open: a
 * second process such as `lcm` may be running jobs of its own).
 */
import { StoreError } from './errors.ts';
import { newId } from './ids.ts';
import { JOB_COLUMNS, rowToJob, type JobRow } from './rows.ts';
import { JOB_STATUSES } from './schema.ts';
import type { Database } from './sqlite.ts';
import type { Job, JobStatus, JsonObject } from './types.ts';

type Write = <T>(action: string, fn: () => T) => T;

export interface NewJob {
  kind: string;
  documentId?: string | null;
  pack?: string | null;
  seed?: number | null;
  params?: JsonObject | null;
  status?: JobStatus;
}

export class JobLog {
  constructor(
    private readonly db: Database,
    private readonly write: Write,
    private readonly clock: () => number,
  ) {}

  create(job: NewJob): Job {
    if (typeof job.kind !== 'string' || !job.kind.trim()) throw new TypeError('A job needs a kind (e.g. "continue").');
    const status = job.status ?? 'queued';
    if (!JOB_STATUSES.includes(status)) throw new RangeError(`Job status must be one of ${JOB_STATUSES.join(', ')}, got "${String(status)}".`);
    return this.write('record a job', () => {
      const now = this.clock();
      const id = newId(now);
      this.db
        .prepare('INSERT INTO jobs (id, kind, status, document_id, progress, pack, seed, params, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)')
        .run(id, job.kind, status, job.documentId ?? null, job.pack ?? null, job.seed ?? null, job.params ? JSON.stringify(job.params) : null, now, now);
      return this.get(id);
    });
  }

  get(id: string): Job {
    const row = this.db.prepare<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`).get(id);
    if (!row) throw new StoreError('STORE_NOT_FOUND', `No job with id ${id}.`);
    return rowToJob(row);
  }

  /** Sets status, progress (0–1) and/or error; a finished job's progress is 1 when done. */
  update(id: string, change: { status?: JobStatus; progress?: number; error?: string | null }): Job {
    if (change.status !== undefined && !JOB_STATUSES.includes(change.status)) throw new RangeError(`Job status must be one of ${JOB_STATUSES.join(', ')}, got "${String(change.status)}".`);
    if (change.progress !== undefined && !(change.progress >= 0 && change.progress <= 1)) throw new RangeError(`Job progress must be from 0 to 1, got ${String(change.progress)}.`);
    return this.write('update a job', () => {
      const job = this.get(id);
      const status = change.status ?? job.status;
      const progress = change.progress ?? (status === 'done' ? 1 : job.progress);
      const error = change.error !== undefined ? change.error : job.error;
      this.db.prepare('UPDATE jobs SET status = ?, progress = ?, error = ?, updated_at = ? WHERE id = ?').run(status, progress, error, this.clock(), id);
      return this.get(id);
    });
  }

  /** Jobs, newest first, optionally of one status or one document. */
  list(filter: { status?: JobStatus; documentId?: string } = {}): Job[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.documentId) {
      where.push('document_id = ?');
      params.push(filter.documentId);
    }
    return this.db.prepare<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC`).all(...params).map(rowToJob);
  }

  /** Marks jobs left queued or running (by a process that stopped) as failed; returns how many. */
  failInterrupted(): number {
    return this.write('close interrupted jobs', () =>
      this.db.prepare("UPDATE jobs SET status = 'failed', error = 'Interrupted: the process running it stopped before it finished.', updated_at = ? WHERE status IN ('queued', 'running')").run(this.clock()).changes,
    );
  }
}
