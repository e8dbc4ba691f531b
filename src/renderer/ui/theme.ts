/**
 * Light and dark themes: the setting picks one, or "system" follows
 * prefers-color-scheme (the stylesheet's media query does that when the root
 * element has no data-theme).
 */
import type { Settings } from '../../shared/contract.ts';

export function applyTheme(theme: Settings['theme'], root: HTMLElement = document.documentElement): void {
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}
