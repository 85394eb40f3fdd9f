import { appendFile, mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import { redact, type Secret } from '../../src/config/redact.js';

/** Entries a console starts with; the file is cut back to these when it has grown to twice as many. */
const HISTORY_LIMIT = 1000;

/**
 * Option keys and words that carry a credential. The language itself has no
 * such option today, but connectors and URLs do, and a person may paste one.
 */
const SECRET_WORDS = /\b(?:password|passwd|pwd|secret|secret_?key|access_?key|token|credentials?|api_?key)\s*=/i;

/**
 * Whether an entry must stay out of the history file: it holds a URL with a
 * password, a credential-looking option (`secret_key=…`, `token=…`), a
 * presigned URL's signature, or any secret of the current configuration.
 * Such an entry can be recalled with Up for the rest of the session but is
 * never written to disk.
 */
export function containsSecret(entry: string, secrets: Iterable<Secret | string> = []): boolean {
  return SECRET_WORDS.test(entry) || redact(entry, secrets) !== entry;
}

/** One entry per line; a backslash and a line break inside an entry are escaped. */
export function encodeEntry(entry: string): string {
  return entry.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n');
}

export function decodeEntry(line: string): string {
  return line.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

export interface HistoryOptions {
  readonly secrets?: Iterable<Secret | string>;
  readonly limit?: number;
}

/**
 * The REPL's history, persisted in the registry home (`historyFile`) with
 * mode 0600. Each new entry is appended at once, so a crash loses nothing
 * and two sessions do not overwrite each other; the file is trimmed to the
 * last `limit` entries when it has grown to twice that.
 */
export class History {
  readonly file: string;
  readonly #secrets: (Secret | string)[];
  readonly #limit: number;
  #entries: string[];
  #writes: Promise<void> = Promise.resolve();

  private constructor(file: string, entries: string[], options: HistoryOptions) {
    this.file = file;
    this.#entries = entries;
    this.#secrets = [...(options.secrets ?? [])];
    this.#limit = options.limit ?? HISTORY_LIMIT;
  }

  static async load(file: string, options: HistoryOptions = {}): Promise<History> {
    let entries: string[] = [];
    try {
      const text = await readFile(file, 'utf8');
      entries = text.split('\n').filter((l) => l !== '').map(decodeEntry);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const h = new History(file, [], options);
    // Entries written by an older version (or by hand) get the same filter.
    const clean = entries.filter((e) => !containsSecret(e, h.#secrets));
    h.#entries = clean.slice(-h.#limit);
    if (entries.length > 2 * h.#limit || clean.length !== entries.length) await h.#rewrite();
    return h;
  }

  /** Entries, oldest first. */
  get entries(): readonly string[] {
    return this.#entries;
  }

  /**
   * Adds an entry, unless it repeats the previous one. Returns whether it was
   * written to the file (false for blanks, repeats and entries with secrets,
   * which are kept for this session only).
   */
  add(entry: string): Promise<boolean> {
    if (entry.trim() === '' || this.#entries[this.#entries.length - 1] === entry) return Promise.resolve(false);
    this.#entries.push(entry);
    if (containsSecret(entry, this.#secrets)) return Promise.resolve(false);
    const line = encodeEntry(entry) + '\n';
    this.#writes = this.#writes.then(() => this.#append(line)).catch(() => undefined);
    return this.#writes.then(() => true);
  }

  /** Waits for pending writes. */
  async flush(): Promise<void> {
    await this.#writes;
  }

  async #append(line: string): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, line, { mode: 0o600 });
  }

  async #rewrite(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, this.#entries.map((e) => encodeEntry(e) + '\n').join(''), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.file);
  }
}
