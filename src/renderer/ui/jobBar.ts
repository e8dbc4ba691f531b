/**
 * The job bar: every running job with its progress and a Cancel button, and
 * the last few finished ones with their outcome (a translated document to
 * open, an error to read). It renders the jobs plugin's state; its buttons run
 * the plugin's commands.
 */
import { getLanguage } from '../../shared/languages.ts';
import { JOB_LABELS, type JobEntry } from '../editor/jobs.ts';
import { h, replace } from './dom.ts';

export interface JobBarOptions {
  cancel: (localId: string) => void;
  dismiss: (localId: string) => void;
  openDocument: (documentId: string) => void;
}

function phaseText(j: JobEntry): string {
  switch (j.phase) {
    case 'starting': return 'starting…';
    case 'running': return j.detail || 'running…';
    case 'done': {
      if (j.kind === 'translate') return j.resultDocumentId ? 'done: translated into a new document' : `done: ${j.placed} translated`;
      if (j.kind === 'regenerate') return 'done: choose a candidate below the concept';
      return `done: ${j.placed} concept${j.placed === 1 ? '' : 's'} added${j.dropped > 0 ? `, ${j.dropped} dropped (their place was deleted)` : ''}`;
    }
    case 'failed': return `failed: ${j.error ?? 'unknown error'}`;
    case 'cancelled': return `cancelled${j.placed > 0 ? ` after ${j.placed}` : ''}`;
  }
}

function title(j: JobEntry): string {
  const r = j.request;
  if (r.kind === 'translate') return `${JOB_LABELS.translate} into ${getLanguage(r.targetLanguage)?.name ?? r.targetLanguage}`;
  return JOB_LABELS[j.kind];
}

export class JobBar {
  readonly element: HTMLElement;
  private shown: readonly JobEntry[] = [];

  constructor(private readonly options: JobBarOptions) {
    this.element = h('section', { class: 'job-bar', 'aria-label': 'Jobs', hidden: true });
  }

  /** Renders the jobs (cheap when nothing changed: the plugin keeps the same array). */
  render(jobs: readonly JobEntry[]): void {
    if (jobs === this.shown) return;
    this.shown = jobs;
    this.element.hidden = jobs.length === 0;
    replace(this.element, ...jobs.map((j) => {
      const running = j.phase === 'starting' || j.phase === 'running';
      const pct = Math.round(j.progress * 100);
      return h('div', { class: `job job-${j.phase}`, 'data-kind': j.kind, 'data-phase': j.phase, 'data-job-id': j.jobId ?? '' },
        h('span', { class: 'job-title' }, title(j)),
        // A native progress element: announced as a progress bar, styled by the theme, no inline styles (CSP).
        running && j.progress === 0
          ? h('progress', { class: 'job-progress', 'aria-label': `${title(j)} progress` })
          : h('progress', { class: 'job-progress', max: 100, value: pct, 'aria-label': `${title(j)} progress` }),
        h('span', { class: 'job-status', role: 'status' }, phaseText(j)),
        running
          ? h('button', { type: 'button', class: 'small', disabled: j.cancelRequested, onclick: () => this.options.cancel(j.localId), title: 'Cancel this job (Ctrl+.)' }, j.cancelRequested ? 'Cancelling…' : 'Cancel')
          : null,
        j.resultDocumentId
          ? h('button', { type: 'button', class: 'small primary', onclick: () => this.options.openDocument(j.resultDocumentId!) }, 'Open translation')
          : null,
        running ? null : h('button', { type: 'button', class: 'small', 'aria-label': `Dismiss ${title(j)}`, onclick: () => this.options.dismiss(j.localId) }, '×'));
    }));
  }
}
