/**
 * Modal dialogs on the native <dialog> element: focus moves in and is kept
 * there, Escape closes, focus returns where it was. One helper for every
 * dialog of the app (translate, summarize, fidelity, settings, confirm).
 */
import { h } from './dom.ts';

export interface ModalOptions {
  title: string;
  body: (Node | string)[];
  /** The submit button's visible name; none: a dialog with just Close. */
  submitLabel?: string;
  /** Runs on submit; return false (or throw) to keep the dialog open. */
  onSubmit?: () => boolean | void | Promise<boolean | void>;
  /** The element to focus first (else the first field). */
  initialFocus?: HTMLElement;
  className?: string;
}

let dialogs = 0;

/** Shows a modal; resolves true when submitted, false when closed. */
export function showModal(options: ModalOptions): Promise<boolean> {
  const titleId = `dialog-title-${++dialogs}`;
  const error = h('p', { class: 'dialog-error', role: 'alert' });
  const submit = options.submitLabel ? h('button', { type: 'submit', class: 'primary' }, options.submitLabel) : null;
  const close = h('button', { type: 'button', value: 'cancel' }, options.submitLabel ? 'Cancel' : 'Close');
  const form = h('form', { method: 'dialog' },
    h('h2', { id: titleId }, options.title),
    ...options.body,
    error,
    h('div', { class: 'dialog-buttons' }, close, submit));
  const dialog = h('dialog', { 'aria-labelledby': titleId, class: options.className ?? '' }, form);
  const returnFocus = document.activeElement as HTMLElement | null;
  document.body.append(dialog);
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      returnFocus?.focus?.();
      resolve(ok);
    };
    close.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', () => finish(false));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void (async () => {
        error.textContent = '';
        try {
          const r = await options.onSubmit?.();
          if (r !== false) finish(true);
        } catch (err) {
          error.textContent = err instanceof Error ? err.message : String(err);
        }
      })();
    });
    dialog.showModal();
    (options.initialFocus ?? form.querySelector<HTMLElement>('input, select, textarea, button'))?.focus();
  });
}
