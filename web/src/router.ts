import type { SessionInfo } from './api.js';

export type Page = (s: SessionInfo, params: URLSearchParams, path: string[]) => void;

let render: () => void = () => undefined;

/** Sets what draws the page for the current location. */
export function onNavigate(fn: () => void): void {
  render = fn;
  window.addEventListener('popstate', () => render());
  // Links within the page are followed without a reload (the session, the script and the style stay).
  document.addEventListener('click', (ev) => {
    const a = (ev.target as Element | null)?.closest?.('a');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const href = a.getAttribute('href') ?? '';
    if (!href.startsWith('/ui/') || href.startsWith('/ui/assets/')) return;
    ev.preventDefault();
    navigate(href);
  });
}

export function navigate(href: string): void {
  history.pushState(null, '', href);
  render();
  document.getElementById('main')?.focus();
}
