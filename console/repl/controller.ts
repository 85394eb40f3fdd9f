import type { Format } from '../args.js';
import { FORMATS } from '../args.js';
import { ProgressMeter, type ProgressReport, type ProgressView } from '../progress.js';
import { render } from '../render/formats.js';
import { terminalText } from '../render/terminal-text.js';
import { applyCompletion, completeWithLookups, EMPTY_CATALOG, type Catalog } from './complete.js';
import { splitScript } from '../../grammar/index.js';
import { needsContinuation } from './continuation.js';
import * as E from './editor.js';
import { helpAnswer } from './help.js';
import { decodeKeys, type KeyEvent } from './keys.js';
import { changesModels, type ReplBackend } from './session.js';
import { tallerThan, type Pager } from '../pager.js';

export const PROMPT = 'mlmodel> ';
export const CONTINUATION_PROMPT = '      -> ';

/** A finished piece of the session, printed once above the prompt (Ink's `<Static>`). */
export interface OutputItem {
  readonly id: number;
  readonly kind: 'echo' | 'result' | 'error' | 'info';
  readonly text: string;
}

export interface Running {
  readonly query: string;
  readonly progress: ProgressView | null;
  readonly cancelling: boolean;
}

/** Everything the screen shows, as one immutable snapshot. */
export interface ReplSnapshot {
  readonly items: readonly OutputItem[];
  readonly editor: E.EditorState;
  readonly running: Running | null;
  /** psql's `\x`: on, off, or auto (only for tables too wide for the window). */
  readonly expanded: boolean | 'auto';
  readonly format: Format;
  /** Completion candidates listed under the prompt after an ambiguous Tab. */
  readonly candidates: readonly string[];
  /** A line under the prompt, e.g. how to leave after a Ctrl-C. */
  readonly hint: string | null;
  readonly exited: boolean;
  /** Counts Ctrl-L and `\clear`: the screen is cleared each time it goes up. */
  readonly clears: number;
  /** A result is in the pager: the terminal's keys are the pager's until it closes. */
  readonly paging: boolean;
}

export interface HistoryLike {
  readonly entries: readonly string[];
  add(entry: string): unknown;
}

export interface ControllerOptions {
  readonly backend: ReplBackend;
  readonly history: HistoryLike;
  readonly format?: Format;
  readonly color?: boolean;
  /** Screen columns results are fitted to; the component keeps it current. */
  readonly width?: number;
  /** Redraw the progress at most this often. */
  readonly progressIntervalMs?: number;
  readonly now?: () => number;
  readonly banner?: string;
  /** Shows results taller than the terminal (console/pager.ts); absent when there is no pager to use. */
  readonly pager?: { readonly page: Pager; readonly rows: () => number | undefined };
}

const EXIT_HINT = 'To leave, press Ctrl-C again or Ctrl-D, or type \\q.';

/**
 * The REPL's behaviour without Ink: keys in, snapshots out. It runs queries
 * through the backend (the same engine and the same renderer as batch mode),
 * cancels them on Ctrl-C through an AbortController, keeps history and
 * completion data, and toggles `\x`.
 */
export class ReplController {
  width: number;
  readonly #backend: ReplBackend;
  readonly #history: HistoryLike;
  readonly #color: boolean;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #listeners = new Set<() => void>();
  #snapshot: ReplSnapshot;
  #nextId = 0;
  #abort: AbortController | null = null;
  #catalog: Catalog = EMPTY_CATALOG;
  #lastCtrlC = false;
  #running: Promise<void> = Promise.resolve();
  #runs = 0;
  /** The entry running, from Enter until its every statement has run and printed (or it was let go). */
  #busyEntry: number | null = null;
  #entries = 0;
  /**
   * Keys that came while an entry ran (typed ahead, the rest of a paste):
   * played back in order when it ends, as psql and mongosh do.
   */
  #typedAhead: KeyEvent[] = [];
  readonly #pager: ControllerOptions['pager'];
  /** `\pager on|off`. */
  #pagerOn = true;
  /** Resolves when the component has let go of the terminal's input for the pager. */
  #released: (() => void) | null = null;

  constructor(options: ControllerOptions) {
    this.#backend = options.backend;
    this.#history = options.history;
    this.#color = options.color ?? false;
    this.width = options.width ?? 80;
    this.#interval = options.progressIntervalMs ?? 100;
    this.#now = options.now ?? (() => performance.now());
    this.#pager = options.pager;
    this.#snapshot = {
      items: [],
      editor: E.initialEditor(options.history.entries),
      running: null,
      expanded: 'auto',
      format: options.format ?? 'table',
      candidates: [],
      hint: null,
      exited: false,
      clears: 0,
      paging: false,
    };
    if (options.banner) this.#emitItems([{ kind: 'info', text: options.banner }]);
    void this.refreshCatalog();
  }

  get snapshot(): ReplSnapshot {
    return this.#snapshot;
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  /** Settles when the entry in flight and any entries typed ahead behind it have finished and printed. */
  get idle(): Promise<void> {
    return (async () => {
      let seen: Promise<void>;
      do {
        seen = this.#running;
        await seen;
      } while (seen !== this.#running);
    })();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async refreshCatalog(): Promise<void> {
    try {
      this.#catalog = await this.#backend.catalog();
    } catch {
      // Completion without store names still completes the grammar.
    }
  }

  /** Raw terminal input (one chunk as Ink delivers it). */
  input(raw: string): void {
    for (const key of decodeKeys(raw)) {
      if (this.#snapshot.exited) return;
      if (this.#busyEntry !== null) {
        // Ctrl-C cancels the running statement and drops what was typed
        // ahead: a pasted script stops where it was stopped. (Once the last
        // answer is printed, the entry is still finishing, e.g. reading model
        // names for completion again: a Ctrl-C then is meant for the prompt.)
        if (key.kind === 'ctrl' && key.key === 'c' && this.#snapshot.running) {
          this.#typedAhead = [];
          this.cancel();
        } else this.#typedAhead.push(key);
        continue;
      }
      this.#key(key);
    }
  }

  /** Plays back the keys typed while the last entry ran, until one of them starts another. */
  #playTypedAhead(): void {
    while (this.#busyEntry === null && !this.#snapshot.exited && this.#typedAhead.length > 0) this.#key(this.#typedAhead.shift()!);
  }

  #set(patch: Partial<ReplSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...patch };
    for (const l of this.#listeners) l();
  }

  #emitItems(items: { kind: OutputItem['kind']; text: string }[], patch: Partial<ReplSnapshot> = {}): void {
    const added = items.map((i) => ({ ...i, id: this.#nextId++ }));
    this.#set({ ...patch, items: [...this.#snapshot.items, ...added] });
  }

  #edit(f: (s: E.EditorState) => E.EditorState): void {
    this.#set({ editor: f(this.#snapshot.editor), candidates: [], hint: null });
  }

  #key(key: KeyEvent): void {
    const wasCtrlC = this.#lastCtrlC;
    this.#lastCtrlC = false;
    const ed = this.#snapshot.editor;
    if (ed.search) return this.#searchKey(key);
    switch (key.kind) {
      case 'text':
        return this.#edit((s) => E.insert(s, key.text));
      case 'enter':
        return this.#enter();
      case 'tab':
        return this.#complete();
      case 'backspace':
        return this.#edit(E.backspace);
      case 'delete':
        return this.#edit(E.deleteForward);
      case 'left':
        return this.#edit(E.left);
      case 'right':
        return this.#edit(E.right);
      case 'up':
        return this.#edit(E.up);
      case 'down':
        return this.#edit(E.down);
      case 'home':
        return this.#edit(E.home);
      case 'end':
        return this.#edit(E.end);
      case 'wordLeft':
        return this.#edit(E.wordLeft);
      case 'wordRight':
        return this.#edit(E.wordRight);
      case 'deleteWordBack':
        return this.#edit(E.deleteWordBack);
      case 'escape':
        return this.#set({ candidates: [], hint: null });
      case 'ctrl':
        return this.#ctrl(key.key, wasCtrlC);
    }
  }

  #ctrl(k: string, wasCtrlC: boolean): void {
    const ed = this.#snapshot.editor;
    switch (k) {
      case 'c':
        if (ed.text !== '') {
          this.#emitItems([{ kind: 'echo', text: echo(ed.text) + '^C' }], { editor: E.initialEditor(this.#history.entries), candidates: [], hint: null });
          return;
        }
        if (wasCtrlC) return this.#exit(true);
        this.#lastCtrlC = true;
        return this.#set({ hint: EXIT_HINT, candidates: [] });
      case 'd':
        if (ed.text === '') return this.#exit(true);
        return this.#edit(E.deleteForward);
      case 'l':
        // readline's clear-screen: the screen is wiped, the entry being typed stays.
        return this.#clear();
      case 'a':
        return this.#edit(E.home);
      case 'e':
        return this.#edit(E.end);
      case 'b':
        return this.#edit(E.left);
      case 'f':
        return this.#edit(E.right);
      case 'k':
        return this.#edit(E.killToEnd);
      case 'u':
        return this.#edit(E.killToStart);
      case 'w':
        return this.#edit(E.deleteWordBack);
      case 'p':
        return this.#edit(E.up);
      case 'n':
        return this.#edit(E.down);
      case 'r':
        return this.#edit(E.searchBackward);
      case 'h':
        return this.#edit(E.backspace);
      default:
        return;
    }
  }

  #searchKey(key: KeyEvent): void {
    switch (key.kind) {
      case 'text':
        return this.#edit((s) => E.searchType(s, key.text));
      case 'backspace':
        return this.#edit(E.searchBackspace);
      case 'enter':
        this.#edit(E.searchAccept);
        return this.#enter();
      case 'escape':
        return this.#edit(E.searchCancel);
      case 'ctrl':
        if (key.key === 'r') return this.#edit(E.searchBackward);
        if (key.key === 'c' || key.key === 'g') return this.#edit(E.searchCancel);
        this.#edit(E.searchAccept);
        return this.#key(key);
      default:
        // Any movement leaves the search with the match in the buffer, then moves.
        this.#edit(E.searchAccept);
        return this.#key(key);
    }
  }

  #complete(): void {
    const ed = this.#snapshot.editor;
    const asked = completeWithLookups(ed.text, ed.cursor, this.#catalog);
    if (asked) {
      // A store answers later (within LOOKUP_TIMEOUT_MS); keys typed meanwhile win over its answer.
      void asked.then((done) => {
        if (this.#snapshot.editor === ed) this.#set({ editor: E.setText(ed, done.text, done.cursor), candidates: done.shown, hint: null });
      });
      return;
    }
    const done = applyCompletion(ed.text, ed.cursor, this.#catalog);
    this.#set({ editor: E.setText(ed, done.text, done.cursor), candidates: done.shown, hint: null });
  }

  #enter(): void {
    const ed = this.#snapshot.editor;
    if (needsContinuation(ed.text)) {
      return this.#edit((s) => E.insert(E.setText(s, s.text), '\n'));
    }
    const entry = ed.text;
    void this.#history.add(entry);
    const fresh = E.initialEditor(this.#history.entries);
    this.#emitItems([{ kind: 'echo', text: echo(entry) }], { editor: fresh, candidates: [], hint: null });
    this.#command(entry);
  }

  /** Console commands first (help, \x, \format, \q), then queries. */
  #command(entry: string): void {
    const words = entry.trim().split(/\s+/);
    const head = (words[0] ?? '').toLowerCase();
    if (head === '') return;
    if (head === '\\q' || ((head === 'exit' || head === 'quit') && words.length === 1)) return this.#exit();
    if (head === 'help' || head === '\\h' || head === '\\?') {
      const answer = helpAnswer(words[1] ?? '');
      return 'text' in answer ? this.#info(answer.text) : this.#error(answer.unknown);
    }
    if (head === '\\x') {
      const arg = (words[1] ?? '').toLowerCase();
      if (arg !== '' && arg !== 'on' && arg !== 'off' && arg !== 'auto') return this.#error('\\x takes on, off, auto or nothing (to toggle)');
      // `\x` alone goes round: auto → on → off → auto, so the default can be had back without a word.
      const next = { auto: true, on: false, off: 'auto' } as const;
      const current = this.#snapshot.expanded === 'auto' ? 'auto' : this.#snapshot.expanded ? 'on' : 'off';
      const expanded = arg === '' ? next[current] : arg === 'auto' ? 'auto' : arg === 'on';
      this.#set({ expanded });
      return this.#info(`Expanded display is ${expanded === 'auto' ? 'used automatically' : expanded ? 'on' : 'off'}.`);
    }
    if (head === '\\format' || head === '\\f') {
      const name = (words[1] ?? '').toLowerCase();
      if (name === '') return this.#info(`Output format is ${this.#snapshot.format}.`);
      if (!(FORMATS as readonly string[]).includes(name)) return this.#error(`unknown format ${name}: use one of ${FORMATS.join(', ')}`);
      this.#set({ format: name as Format });
      return this.#info(`Output format is ${name}.`);
    }
    if (head === '\\clear') return this.#clear();
    if (head === '\\pager') {
      const arg = (words[1] ?? '').toLowerCase();
      if (arg !== '' && arg !== 'on' && arg !== 'off') return this.#error('\\pager takes on, off or nothing (to toggle)');
      this.#pagerOn = arg === '' ? !this.#pagerOn : arg === 'on';
      if (this.#pagerOn && !this.#pager) return this.#info('Pager is on, but there is none to use (the output is not a terminal, or MLMODEL_PAGER/PAGER is empty).');
      return this.#info(`Pager is ${this.#pagerOn ? 'used for results taller than the window' : 'off'}.`);
    }
    if (head.startsWith('\\')) return this.#error(`unknown console command ${words[0]}; type help`);
    // One entry may hold several statements (`a; b`, a pasted script): each runs in turn, as psql does.
    const statements = splitScript(entry);
    if (statements.length === 0) return;
    const entryId = ++this.#entries;
    this.#busyEntry = entryId;
    this.#running = (async () => {
      try {
        for (const s of statements) if (!(await this.#run(s.text))) break;
      } finally {
        if (this.#busyEntry === entryId) {
          this.#busyEntry = null;
          this.#playTypedAhead();
        }
      }
    })();
  }

  /** Runs one statement; false when it was cancelled (the rest of the entry is not run). */
  async #run(query: string): Promise<boolean> {
    const abort = new AbortController();
    this.#abort = abort;
    const run = ++this.#runs;
    const current = () => this.#abort === abort && this.#runs === run;
    const meter = new ProgressMeter(this.#now);
    let lastDraw = -Infinity;
    this.#set({ running: { query, progress: null, cancelling: false } });
    const onProgress = (p: ProgressReport) => {
      const view = meter.update(p);
      const t = this.#now();
      const r = this.#snapshot.running;
      if (!r || !current() || (t - lastDraw < this.#interval && !(p.total !== null && p.done >= p.total))) return;
      lastDraw = t;
      this.#set({ running: { ...r, progress: view } });
    };
    try {
      const table = await this.#backend.run(query, { signal: abort.signal, onProgress });
      if (!current()) return false;
      const { format, expanded } = this.#snapshot;
      const text = render(table, format, { width: this.width, color: this.#color, expanded });
      if (this.#pager && this.#pagerOn && tallerThan(text, this.#pager.rows())) {
        await this.#page(text);
        if (!current()) return false;
        // The table went to the pager; its row count stays on the screen.
        const last = text.slice(text.lastIndexOf('\n') + 1);
        this.#emitItems([{ kind: 'info', text: /^\(\d+ rows?\)$/.test(last) ? `${last} shown in the pager` : '(shown in the pager)' }], { running: null });
      } else this.#emitItems([{ kind: 'result', text }], { running: null });
      if (changesModels(query)) await this.refreshCatalog();
      return true;
    } catch (e) {
      if (!current()) return false;
      // Errors quote names and text from the store: escaped like result cells.
      const text = abort.signal.aborted ? 'cancelled' : terminalText(this.#backend.describeError(e), { lines: true, tabs: true });
      this.#emitItems([{ kind: text === 'cancelled' ? 'info' : 'error', text }], { running: null });
      return !abort.signal.aborted;
    } finally {
      if (current()) this.#abort = null;
    }
  }

  /** Hands the terminal to the pager once the component has let go of its input, and takes it back after. */
  async #page(text: string): Promise<void> {
    const released = new Promise<void>((resolve) => (this.#released = resolve));
    this.#set({ paging: true });
    // The component lets go once React has committed the change; a pager
    // started before would race it for the keys. (Bounded, should it never.)
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([released, new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    this.#released = null;
    try {
      await this.#pager!.page(text);
    } finally {
      this.#set({ paging: false });
    }
  }

  /** The component has stopped reading keys: the pager may read them. */
  inputReleased(): void {
    this.#released?.();
  }

  /** Ctrl-C while a query runs: abort it; the engine stops and the prompt returns. */
  cancel(): void {
    const r = this.#snapshot.running;
    if (!r || !this.#abort) return;
    if (r.cancelling) {
      // A second Ctrl-C does not wait for the store to notice: the prompt comes back now.
      this.#abort = null;
      this.#busyEntry = null;
      this.#emitItems([{ kind: 'info', text: 'cancelled (not waiting for the store to stop)' }], { running: null });
      return;
    }
    this.#abort.abort();
    this.#set({ running: { ...r, cancelling: true } });
  }

  #info(text: string): void {
    this.#emitItems([{ kind: 'info', text }]);
  }

  #error(text: string): void {
    this.#emitItems([{ kind: 'error', text: terminalText(text, { lines: true, tabs: true }) }]);
  }

  #clear(): void {
    this.#set({ clears: this.#snapshot.clears + 1, candidates: [], hint: null });
  }

  /**
   * Leaves the console. A key that leaves (Ctrl-D, a second Ctrl-C) leaves the
   * prompt it was pressed at on the screen, as psql and mongosh do, so the
   * shell's next prompt does not take the place of the last line.
   */
  #exit(keepPrompt = false): void {
    this.#abort?.abort();
    const ed = this.#snapshot.editor;
    if (keepPrompt) this.#emitItems([{ kind: 'echo', text: echo(ed.text) }]);
    this.#set({ exited: true, hint: null, candidates: [] });
  }
}

/** An entry as it was typed, with its prompts. */
export function echo(entry: string): string {
  return entry
    .split('\n')
    .map((line, i) => (i === 0 ? PROMPT : CONTINUATION_PROMPT) + line)
    .join('\n');
}
