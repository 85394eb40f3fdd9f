/**
 * The line editor behind the prompt, as pure functions over an immutable
 * state: typing, cursor movement, the Emacs keys people expect from a shell
 * (Ctrl-A/E/K/U/W), history with Up/Down, and Ctrl-R reverse search. Ink
 * only draws the state; everything here is testable without a terminal.
 */

export interface SearchState {
  readonly query: string;
  /** Index into history of the entry shown, or null when nothing matches. */
  readonly match: number | null;
  /** The buffer before the search started, restored when it is cancelled. */
  readonly saved: { readonly text: string; readonly cursor: number };
}

export interface EditorState {
  readonly text: string;
  /** Position in `text`, in UTF-16 code units, always on a code point boundary. */
  readonly cursor: number;
  /** Earlier entries, oldest first. */
  readonly history: readonly string[];
  /** Which entry Up/Down is showing; null while editing a fresh line. */
  readonly historyIndex: number | null;
  /** The fresh line, kept while browsing history. */
  readonly draft: string;
  readonly search: SearchState | null;
}

export function initialEditor(history: readonly string[] = []): EditorState {
  return { text: '', cursor: 0, history, historyIndex: null, draft: '', search: null };
}

export function setText(state: EditorState, text: string, cursor = text.length): EditorState {
  return { ...state, text, cursor: Math.max(0, Math.min(cursor, text.length)) };
}

export function insert(state: EditorState, s: string): EditorState {
  const text = state.text.slice(0, state.cursor) + s + state.text.slice(state.cursor);
  return { ...state, text, cursor: state.cursor + s.length };
}

export function backspace(state: EditorState): EditorState {
  if (state.cursor === 0) return state;
  const start = prevBoundary(state.text, state.cursor);
  return { ...state, text: state.text.slice(0, start) + state.text.slice(state.cursor), cursor: start };
}

export function deleteForward(state: EditorState): EditorState {
  if (state.cursor >= state.text.length) return state;
  const end = nextBoundary(state.text, state.cursor);
  return { ...state, text: state.text.slice(0, state.cursor) + state.text.slice(end) };
}

export function left(state: EditorState): EditorState {
  return { ...state, cursor: prevBoundary(state.text, state.cursor) };
}

export function right(state: EditorState): EditorState {
  return { ...state, cursor: nextBoundary(state.text, state.cursor) };
}

/** Ctrl-A / Home: start of the current line of a multi-line entry. */
export function home(state: EditorState): EditorState {
  return { ...state, cursor: lineStart(state.text, state.cursor) };
}

/** Ctrl-E / End: end of the current line. */
export function end(state: EditorState): EditorState {
  return { ...state, cursor: lineEnd(state.text, state.cursor) };
}

/** Ctrl-K: delete to the end of the line. */
export function killToEnd(state: EditorState): EditorState {
  const e = lineEnd(state.text, state.cursor);
  return { ...state, text: state.text.slice(0, state.cursor) + state.text.slice(e) };
}

/** Ctrl-U: delete to the start of the line. */
export function killToStart(state: EditorState): EditorState {
  const s = lineStart(state.text, state.cursor);
  return { ...state, text: state.text.slice(0, s) + state.text.slice(state.cursor), cursor: s };
}

/** Ctrl-W / Alt-Backspace: delete the word before the cursor (and the blanks after it). */
export function deleteWordBack(state: EditorState): EditorState {
  const s = wordStartBefore(state.text, state.cursor);
  return { ...state, text: state.text.slice(0, s) + state.text.slice(state.cursor), cursor: s };
}

export function wordLeft(state: EditorState): EditorState {
  return { ...state, cursor: wordStartBefore(state.text, state.cursor) };
}

export function wordRight(state: EditorState): EditorState {
  let i = state.cursor;
  const t = state.text;
  while (i < t.length && isSpace(t[i]!)) i++;
  while (i < t.length && !isSpace(t[i]!)) i++;
  return { ...state, cursor: i };
}

/**
 * Up: in a multi-line entry, the line above; on the first line, the previous
 * history entry.
 */
export function up(state: EditorState): EditorState {
  const s = lineStart(state.text, state.cursor);
  if (s > 0) {
    const column = state.cursor - s;
    const prevStart = lineStart(state.text, s - 1);
    return { ...state, cursor: Math.min(prevStart + column, s - 1) };
  }
  return historyPrev(state);
}

/** Down: the line below, or on the last line the next history entry. */
export function down(state: EditorState): EditorState {
  const e = lineEnd(state.text, state.cursor);
  if (e < state.text.length) {
    const column = state.cursor - lineStart(state.text, state.cursor);
    const nextStart = e + 1;
    return { ...state, cursor: Math.min(nextStart + column, lineEnd(state.text, nextStart)) };
  }
  return historyNext(state);
}

export function historyPrev(state: EditorState): EditorState {
  if (state.history.length === 0) return state;
  const index = state.historyIndex === null ? state.history.length - 1 : Math.max(0, state.historyIndex - 1);
  const draft = state.historyIndex === null ? state.text : state.draft;
  const text = state.history[index]!;
  return { ...state, historyIndex: index, draft, text, cursor: text.length };
}

export function historyNext(state: EditorState): EditorState {
  if (state.historyIndex === null) return state;
  if (state.historyIndex >= state.history.length - 1) {
    return { ...state, historyIndex: null, text: state.draft, cursor: state.draft.length };
  }
  const index = state.historyIndex + 1;
  const text = state.history[index]!;
  return { ...state, historyIndex: index, text, cursor: text.length };
}

/** Ctrl-R: start a reverse search, or, while searching, find the next older match. */
export function searchBackward(state: EditorState): EditorState {
  if (state.search === null) {
    return { ...state, search: { query: '', match: null, saved: { text: state.text, cursor: state.cursor } } };
  }
  const from = state.search.match === null ? state.history.length - 1 : state.search.match - 1;
  return findMatch(state, state.search.query, from, true);
}

/** Typing while searching narrows the search from the current match. */
export function searchType(state: EditorState, s: string): EditorState {
  if (state.search === null) return state;
  const from = state.search.match ?? state.history.length - 1;
  return findMatch(state, state.search.query + s, from, false);
}

export function searchBackspace(state: EditorState): EditorState {
  if (state.search === null) return state;
  const query = [...state.search.query].slice(0, -1).join('');
  return findMatch(state, query, state.history.length - 1, false);
}

/** Leave the search keeping the match in the buffer, to edit or run it. */
export function searchAccept(state: EditorState): EditorState {
  if (state.search === null) return state;
  const text = state.search.match === null ? state.search.saved.text : state.history[state.search.match]!;
  return { ...state, search: null, text, cursor: text.length, historyIndex: null };
}

/** Ctrl-G / Ctrl-C / Escape: leave the search and put back what was there. */
export function searchCancel(state: EditorState): EditorState {
  if (state.search === null) return state;
  const { text, cursor } = state.search.saved;
  return { ...state, search: null, text, cursor };
}

function findMatch(state: EditorState, query: string, from: number, strictlyOlder: boolean): EditorState {
  const saved = state.search!.saved;
  if (query === '') return { ...state, search: { query, match: null, saved } };
  const needle = query.toLowerCase();
  for (let i = Math.min(from, state.history.length - 1); i >= 0; i--) {
    if (state.history[i]!.toLowerCase().includes(needle)) return { ...state, search: { query, match: i, saved } };
  }
  // Nothing older matches: keep showing the last match (as readline does) when
  // looking for the next one; a narrower query with no match shows none.
  return { ...state, search: { query, match: strictlyOlder ? state.search!.match : null, saved } };
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n';
}

function wordStartBefore(t: string, cursor: number): number {
  let i = cursor;
  while (i > 0 && isSpace(t[i - 1]!)) i--;
  while (i > 0 && !isSpace(t[i - 1]!)) i--;
  return i;
}

function lineStart(t: string, cursor: number): number {
  return t.lastIndexOf('\n', cursor - 1) + 1;
}

function lineEnd(t: string, cursor: number): number {
  const i = t.indexOf('\n', cursor);
  return i === -1 ? t.length : i;
}

function prevBoundary(t: string, i: number): number {
  if (i <= 0) return 0;
  const lo = t.charCodeAt(i - 1);
  return i >= 2 && lo >= 0xdc00 && lo <= 0xdfff ? i - 2 : i - 1;
}

function nextBoundary(t: string, i: number): number {
  if (i >= t.length) return t.length;
  const hi = t.charCodeAt(i);
  return hi >= 0xd800 && hi <= 0xdbff && i + 1 < t.length ? i + 2 : i + 1;
}
