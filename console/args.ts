import { parseArgs } from 'node:util';

export const FORMATS = ['table', 'json', 'jsonl', 'csv', 'tsv', 'markdown', 'html'] as const;
export type Format = (typeof FORMATS)[number];

/** What the command line asked for, checked and typed. */
export interface CliOptions {
  readonly commands: readonly string[];
  /** A query given as the command's words (`mlmodel list`, `mlmodel 'list | head 5'`), joined by spaces; its `mlmodel` is implied. */
  readonly words: string | undefined;
  readonly file: string | undefined;
  readonly format: Format;
  /** CSV/TSV cells exactly as stored: no defusing of formulas, no escaping of control characters. */
  readonly raw: boolean;
  readonly parseOnly: boolean;
  readonly home: string | undefined;
  readonly config: string | undefined;
  readonly user: string | undefined;
  readonly continueOnError: boolean;
  /** Statements may leave out their leading `mlmodel` (as the notebook's %mlmodel does). */
  readonly implicitCommand: boolean;
  /** Results taller than the terminal go through a pager (off with --no-pager). */
  readonly pager: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: mlmodel [options]
       mlmodel [options] QUERY…                      (mlmodel list, mlmodel 'list | head 5')
       mlmodel -c "<query>" [-c "<query>" …]
       mlmodel -f FILE | mlmodel < FILE
       mlmodel serve [--port N] [--host 127.0.0.1]   (HTTP query API; serve --help)

  -c, --command QUERY     run one query (repeatable), print its result, exit
  -f, --file FILE         run a file of queries: one per line or ending at ;,
                          # comments, a trailing \\ continues a line (- reads stdin)
      --format FORMAT     table, json, jsonl, csv, tsv, markdown or html (default table)
      --raw               csv/tsv: cells exactly as stored (by default a cell
                          starting = + - @ gets a ' and controls show as \\x1b)
      --parse             print each query's syntax tree as JSON instead of running it
      --continue-on-error keep going after a failed query in a batch
      --implicit-command  a query may leave out its leading mlmodel (list | head 5)
      --no-pager          never page; by default a result taller than the terminal
                          goes through $MLMODEL_PAGER, $PAGER or less -SR
      --home DIR          registry home (default $MLMODEL_HOME or ~/.mlmodel)
      --config FILE       config file (default $MLMODEL_CONFIG or <home>/config.yaml)
      --user NAME         act as this user (default $MLMODEL_USER)
  -h, --help              show this help
  -V, --version           show the version

exit status: 0 ok, 1 a query failed (or fsck repaired), 2 usage or parse error,
             4 fsck left problems`;

export function parseCommandLine(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        command: { type: 'string', short: 'c', multiple: true },
        file: { type: 'string', short: 'f' },
        format: { type: 'string' },
        raw: { type: 'boolean' },
        parse: { type: 'boolean' },
        home: { type: 'string' },
        config: { type: 'string' },
        user: { type: 'string' },
        'continue-on-error': { type: 'boolean' },
        'implicit-command': { type: 'boolean' },
        'no-pager': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values;
  const format = v.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown format ${JSON.stringify(format)}: use one of ${FORMATS.join(', ')}`);
  }
  if (v.raw && format !== 'csv' && format !== 'tsv') {
    throw new UsageError('--raw applies to --format csv or tsv');
  }
  if (v.command !== undefined && v.file !== undefined) {
    throw new UsageError('give either -c queries or -f FILE, not both');
  }
  const words = parsed.positionals.length > 0 ? parsed.positionals.join(' ') : undefined;
  if (words !== undefined && (v.command !== undefined || v.file !== undefined)) {
    throw new UsageError(`a query as words (${JSON.stringify(words.slice(0, 40))}) and -c or -f together: give one of them`);
  }
  return {
    commands: v.command ?? [],
    words,
    file: v.file,
    format: format as Format,
    raw: v.raw ?? false,
    parseOnly: v.parse ?? false,
    home: v.home,
    config: v.config,
    user: v.user,
    continueOnError: v['continue-on-error'] ?? false,
    implicitCommand: v['implicit-command'] ?? false,
    pager: !(v['no-pager'] ?? false),
    help: v.help ?? false,
    version: v.version ?? false,
  };
}
