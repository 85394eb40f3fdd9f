import { query, type SessionInfo } from './api.js';
import { cellText, errorText, h, show } from './dom.js';
import { LIST_COLUMNS, nextCursor, pageQuery, type Cursor, type ListColumn, type Sort } from './paging.js';

const PAGE = 50;

/** The model list: a search box in the query language, sortable columns, and keyset pages served by the store. */
export function listPage(_s: SessionInfo, params: URLSearchParams): void {
  let search = params.get('q') ?? '';
  // Newest first by default: the stores index (latest, modified, id), so the first page of a million models is one index walk.
  const named = (LIST_COLUMNS as readonly string[]).includes(params.get('sort') ?? '');
  let sort: Sort = named ? { column: params.get('sort') as ListColumn, descending: params.get('desc') === '1' } : { column: 'modified', descending: true };
  /** The cursors of the pages before this one (the first page has none). */
  let cursors: (Cursor | null)[] = [null];

  const input = h('input', { id: 'search', type: 'search', name: 'q', size: '60', spellcheck: 'false', autocomplete: 'off', placeholder: 'where type = onnx and name like churn*' });
  input.value = search;
  const form = h('form', { role: 'search', class: 'search' }, h('label', { for: 'search' }, 'Search models (the query language: a where condition)'), ' ', input, ' ', h('button', { type: 'submit' }, 'Search'));
  const status = h('p', { id: 'list-status', role: 'status', 'aria-live': 'polite' });
  const body = h('tbody');
  const headRow = h('tr');
  const prev = h('button', { type: 'button', id: 'prev' }, 'Previous page');
  const next = h('button', { type: 'button', id: 'next' }, 'Next page');
  const tableEl = h('table', { id: 'models' }, h('caption', {}, 'Models (the latest version of each)'), h('thead', {}, headRow), body);
  show('Models', form, status, tableEl, h('nav', { 'aria-label': 'Pages', class: 'pager' }, prev, ' ', next));

  function drawHeads(): void {
    headRow.replaceChildren(
      ...LIST_COLUMNS.map((c) => {
        const active = sort.column === c;
        const b = h('button', { type: 'button', 'data-sort': c }, c, active ? (sort.descending ? ' ▼' : ' ▲') : '');
        b.addEventListener('click', () => {
          sort = { column: c, descending: active ? !sort.descending : false };
          cursors = [null];
          void load();
        });
        return h('th', { scope: 'col', 'aria-sort': active ? (sort.descending ? 'descending' : 'ascending') : undefined }, b);
      }),
    );
  }

  async function load(): Promise<void> {
    drawHeads();
    const cursor = cursors.at(-1) ?? null;
    const { q, skip } = pageQuery(search, sort, cursor, PAGE);
    status.textContent = 'Loading…';
    document.body.removeAttribute('data-ready');
    try {
      const r = await query(q);
      const rows = r.results.slice(skip);
      const shown = rows.slice(0, PAGE);
      const idIx = r.fields.findIndex((f) => f.name === 'id');
      const keyIx = r.fields.findIndex((f) => f.name === sort.column);
      const nameIx = r.fields.findIndex((f) => f.name === 'name');
      const order = LIST_COLUMNS.map((c) => r.fields.findIndex((f) => f.name === c));
      body.replaceChildren(
        ...shown.map((row) =>
          h(
            'tr',
            {},
            ...order.map((ix, k) => {
              const text = cellText(ix < 0 ? null : row[ix]);
              if (LIST_COLUMNS[k] !== 'name') return h('td', {}, text);
              const a = h('a', { href: `/ui/models/${encodeURIComponent(String(row[nameIx]))}` }, text);
              return h('td', {}, a);
            }),
          ),
        ),
      );
      const first = (cursors.length - 1) * PAGE + 1;
      status.textContent = shown.length === 0 ? 'No models match.' : `Models ${first}–${first + shown.length - 1}${rows.length > PAGE ? '' : ' (the last page)'}`;
      prev.disabled = cursors.length <= 1;
      next.disabled = rows.length <= PAGE;
      next.onclick = () => {
        cursors.push(nextCursor(shown, idIx, keyIx, sort, cursor));
        void load();
      };
      prev.onclick = () => {
        cursors.pop();
        void load();
      };
      const url = new URLSearchParams({ ...(search ? { q: search } : {}), sort: sort.column, ...(sort.descending ? { desc: '1' } : {}) });
      history.replaceState(null, '', `/ui/?${url}`);
    } catch (e) {
      body.replaceChildren();
      status.textContent = `The search failed: ${errorText(e)}`;
      prev.disabled = next.disabled = true;
    }
    document.body.setAttribute('data-ready', 'list');
    // bench:web reads when the first page was ready, from navigation start.
    performance.mark('mlmodel-list-ready');
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    search = input.value;
    cursors = [null];
    void load();
  });
  void load();
}
