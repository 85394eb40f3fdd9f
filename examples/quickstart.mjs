// The mlmodel library in one file: parse, open a registry, run queries and a
// script, handle errors, render HTML. Run it from a checkout after
// `npm run build`:   node examples/quickstart.mjs
// (test/library/ runs it, and type-checks it against the package's types.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create as tar } from 'tar';
import { parse, ParseError } from 'mlmodel/grammar';
import { openRegistry, isMlmodelError } from 'mlmodel';
import { renderHtml } from 'mlmodel/render';

// 1. The language alone: pure, synchronous, no store driver loaded.
const ast = parse('mlmodel list | where type = sklearn | sort -modified | head 5');
console.log(`parsed: ${ast.command.kind} then ${ast.stages.map((s) => s.kind).join(', ')}`);
try {
  parse('mlmodel llist');
} catch (e) {
  if (!(e instanceof ParseError)) throw e;
  console.log(`parse error at line ${e.line}, column ${e.column}: did you mean ${e.suggestion}?`);
}

// 2. A registry. Here: a fresh home in a temporary directory, so the
//    embedded stores (SQLite file + object directory) are used.
const home = mkdtempSync(join(tmpdir(), 'mlmodel-quickstart-'));
writeFileSync(join(home, 'model.pkl'), 'a pickled estimator would be here');
const archive = join(home, 'clf.tar.gz');
await tar({ file: archive, cwd: home, gzip: true }, ['model.pkl']);

const registry = await openRegistry({ env: { HOME: home, MLMODEL_HOME: home, MLMODEL_USER: 'alice' } });
try {
  // 3. One query: run() resolves to a ResultTable { columns, rows }.
  //    signal cancels it; onProgress reports bytes moved by import/export/deploy.
  const controller = new AbortController();
  let moved = 0;
  const imported = await registry.run(`mlmodel import name=churn type=sklearn category=classification path=${archive}`, {
    signal: controller.signal,
    onProgress: (p) => {
      moved = p.done;
    },
  });
  const [result, name, version] = imported.rows[0] ?? [];
  console.log(`import: ${result} ${name} version ${version} (${moved > 0 ? 'progress reported' : 'no progress'})`);

  // 4. A script: runScript() yields one ResultTable per statement, as each completes.
  const script = `
# one query per line; a trailing backslash continues
mlmodel list | fields user, name, type, create
mlmodel summary churn \\
  category, algorithm
`;
  for await (const table of registry.runScript(script)) {
    const cols = table.columns.map((c) => `${c.name}:${c.type}`).join(' ');
    const first = table.rows[0] ?? [];
    const created = first.find((v) => v instanceof Date);
    console.log(`line ${table.statement.line}: ${cols} | ${table.rows.length} row(s)${created ? ' | DATETIME cells are Dates' : ''}`);
  }

  // 5. Errors carry a stable code.
  try {
    await registry.run('mlmodel summary no_such_model');
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    console.log(`error: ${e.code}: ${e.message}`);
  }

  // 6. HTML for a notebook (the console's own renderer; every cell escaped).
  const html = renderHtml(await registry.run('mlmodel list | fields name, type'));
  console.log(html.split('\n').find((l) => l.startsWith('<tr>')));
} finally {
  await registry.close();
}
