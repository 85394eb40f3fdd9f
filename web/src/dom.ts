/** A tiny element builder: text children are text nodes, never HTML, so nothing a server sends can become markup. */
export type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

/** The cell of a result as text: JSON values as JSON, null as empty. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A result table as an HTML table with a caption (its accessible name). */
export function table(caption: string, fields: readonly { name: string }[], rows: readonly (readonly unknown[])[], rowClass?: (row: readonly unknown[]) => string | undefined): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...fields.map((f) => h('th', { scope: 'col' }, f.name)))),
    h('tbody', {}, ...rows.map((r) => h('tr', { class: rowClass?.(r) }, ...r.map((c) => h('td', {}, cellText(c)))))),
  );
}

/** Replaces the page's main content and gives it a title. */
export function show(title: string, ...content: Child[]): HTMLElement {
  const main = document.getElementById('main')!;
  main.replaceChildren(h('h1', {}, title), ...content.flatMap((c) => (c === null || c === undefined || c === false ? [] : [typeof c === 'number' ? String(c) : c])));
  document.title = `${title} · mlmodel`;
  return main;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
