import { pathToFileURL } from 'node:url';
import { FORMATS, parseCommandLine } from './args.js';
import { main, opensRepl } from './main.js';
import { failQuietly, swallowClosedOutput } from './process-guard.js';
import { COMMANDS } from '../src/commands/index.js';
import { LIST_COLUMNS } from '../src/commands/list.js';
import { planQuery } from '../src/planner/plan.js';
import { render } from './render/formats.js';
import { writeStreamed } from './render/stream.js';
import { loadConfig } from '../src/config/index.js';
import { streamedTable, type Cell, type ColumnType, type Row } from '../src/result/table.js';
import { language } from '../src/language.js';
// What a one-shot query runs, evaluated while the snapshot is built rather
// than at every start (main imports them on first use; here they are already
// there, so those imports only hand them over).
import './run-mode.js';
import './open-registry.js';
import './pager.js';
import '../src/engine/registry.js';
// The embedded store's modules (open.ts imports them on first use), better-sqlite3's JavaScript with them; its addon loads once restored.
import '../src/store/sqlite.js';
import '../src/store/directory.js';

/**
 * The command line as it is restored from the V8 startup snapshot
 * (scripts/snapshot.ts builds it; the `mlmodel` launcher runs it). Building
 * the language — Chevrotain recording every rule, the lexer, the command list
 * — and compiling and evaluating the modules of a one-shot query is most of
 * what a `mlmodel -c` start costs; in the snapshot they are done once, at
 * `npm run build`. Native modules (the SQLite addon) and every package the
 * snapshot leaves out load after it is restored, when first used.
 *
 * Every statement's examples are parsed and planned once here, so the
 * lookahead of the decisions they reach (grammar/lazy-lookahead.ts builds it
 * on first use) is in the snapshot too. The examples come from the command
 * modules, so the warm-up follows the command list.
 */
for (const c of COMMANDS) for (const e of c.examples) planQuery(language.parse(e));
// Functions that ran here keep their bytecode in the snapshot; the others are
// compiled when first called after it is restored. So the pure steps of a
// query run once: util.parseArgs (Node compiles it on first use), the planner
// above, and every renderer over the list's columns.
parseCommandLine(['-c', 'mlmodel list']);
for (const format of FORMATS) render({ columns: LIST_COLUMNS, rows: [] }, format, { width: 80, color: false, raw: false });
// The streamed writers a listing goes through (to a pipe: no width; to a
// terminal: fitted), empty and with a row, and the configuration's reading
// (of a home that does not exist, so no file is read). Nothing here waits
// on I/O: the promises settle before the snapshot is taken.
const SAMPLE: Record<ColumnType, Cell> = { LONG: 1, DOUBLE: 0.5, TEXT: 'x', BOOLEAN: true, DATETIME: new Date(0), JSON: { a: 1 } };
async function* pagesOf(rows: readonly Row[]): AsyncGenerator<readonly Row[], void, undefined> {
  if (rows.length > 0) yield rows;
}
for (const format of FORMATS) {
  for (const rows of [[], [LIST_COLUMNS.map((c) => SAMPLE[c.type])]]) {
    for (const width of [undefined, 80]) void writeStreamed(streamedTable(LIST_COLUMNS, pagesOf(rows)), format, { width, color: false, raw: false }, async () => {});
  }
}
loadConfig({ HOME: '/nonexistent/mlmodel-snapshot', MLMODEL_USER: 'snapshot', PWD: '/' });

/**
 * Runs the command line as console/cli.ts does. `entry` is the bundled ESM
 * bin (dist/bin/mlmodel.js), which the launcher passes as the script: the REPL
 * (Ink is an ES module the snapshot cannot hold) and `serve` (a long-lived
 * process, for which start-up does not count) run it instead, the same
 * program from its first line.
 */
export async function runFromSnapshot(argv: readonly string[], entry: string, importModule: (url: string) => Promise<unknown>): Promise<void> {
  if (fullProgram(argv)) {
    await importModule(pathToFileURL(entry).href);
    return;
  }
  swallowClosedOutput(process);
  process.on('uncaughtException', (e) => failQuietly(e, process));
  process.on('unhandledRejection', (e) => failQuietly(e, process));
  try {
    process.exitCode = await main(argv, process);
  } catch (e) {
    failQuietly(e, process);
  }
}

function fullProgram(argv: readonly string[]): boolean {
  if (argv[0] === 'serve') return true;
  try {
    // stdin is looked at only when main would look at it.
    return opensRepl(parseCommandLine(argv), { get isTTY() { return process.stdin.isTTY; } });
  } catch {
    // A usage error: main reports it.
    return false;
  }
}
