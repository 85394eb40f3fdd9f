import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';
import { startHarness, TOKENS, type Harness } from '../http/harness.js';
import { CLI, ipython, needNotebook, notebook, type CellReport, type Notebook } from './ipython.js';

/**
 * The IPython extension in notebook/, installed as a package (pip) into a
 * virtualenv with IPython and pandas, loaded with %load_ext in a real
 * IPython process, running cells through the built CLI and through the HTTP
 * query API. Without Python the suite skips loudly; under CI=true that is a
 * failure.
 */
const run = promisify(execFile);
let nb: Notebook | Error;
let root = '';

beforeAll(async () => {
  nb = await notebook();
  if (!(nb instanceof Error)) root = nb.root;
}, 600_000);

function needPython(ctx: { skip: (note?: string) => void }): Notebook {
  return needNotebook(nb, ctx);
}

/** A notebook to run cells in, or none (the suite's tests then skip). */
function ready(): Notebook | null {
  return nb instanceof Error ? null : nb;
}

describe('%mlmodel / %%mlmodel through the CLI, with pandas', () => {
  let cells: CellReport[];
  let archive: string;
  beforeAll(async () => {
    const py = ready();
    if (!py) return;
    archive = join(root, 'clf.tar.gz');
    writeFileSync(archive, archives.sklearn());
    cells = await ipython(
      py,
      [
        '%load_ext mlmodel_magic',
        `%mlmodel import name=churn type=sklearn category=classification path=${archive}`,
        `%%mlmodel -o models\n# two queries; the first is displayed, the second is the value\nlist | fields id, name, create\nsummary churn \\\n  type, category`,
        "import json; print(json.dumps([type(models).__name__, len(models), [str(t) for t in models[0].dtypes], int(models[0]['create'].isna().sum()), str(models[0]['create'][0].tz)]))",
        '%%mlmodel\nlist | fields name\nlist | head x',
        '%mlmodel',
        '%mlmodel --bogus list',
        CUT_CELL,
        'from mlmodel_magic import Result; Result([{"name": "a<b", "type": "TEXT"}], [["<script>x</script>"]])',
        ALL_TYPES,
        `epochs = 99\n%mlmodel import name=tuned type=sklearn parameter='{"epochs": 5}' label=$epochs path=${archive}`,
        '%mlmodel --html summary tuned parameter, label',
        `%mlmodel import name=labelled type=sklearn label=$epochs description={epochs} path=${archive}`,
        '%mlmodel --html summary labelled label, description',
        // 14–17: help, from the CLI
        '%mlmodel help',
        '%mlmodel help deploy',
        '%%mlmodel\nhelp deplyo',
        '%mlmodel --url http://127.0.0.1:9 help summary',
        // 18–19: a summary's values in their own types, after stages too
        `%%mlmodel\nimport name=counted type=sklearn train_cnt=100 elapsed=1.5 parameter='{"epochs": 5}' path=${archive}\ntag counted a, b`,
        TYPED_SUMMARY,
        // 20–25: {var} expansion, asked for
        "n = 'counted'\n%mlmodel --expand summary {n} id",
        `%mlmodel --expand import name=braced type=sklearn parameter='{{"k": {len(n)}}}' description=$n path=${archive}`,
        '%mlmodel --html summary braced parameter, description',
        '%mlmodel --expand summary {nope} id',
        "%config MlmodelMagics.expand = True\nm = 'braced'\n%mlmodel summary {m} name",
        '%mlmodel --no-expand summary {m} name',
        TYPED_EVERY_KIND,
      ],
      { MLMODEL_CLI: `${process.execPath} ${CLI}`, MLMODEL_HOME: join(root, 'cli-home'), MLMODEL_USER: 'dana' },
    );
  }, 180_000);

  it('loads with %load_ext and returns a typed DataFrame from a line magic', (ctx) => {
    needPython(ctx);
    expect(cells[0]).toMatchObject({ success: true, outputs: [] });
    const imp = cells[1]!;
    expect(imp.error).toBeUndefined();
    expect(imp.result!.type).toBe('DataFrame');
    expect(imp.result!.dtypes).toEqual({ result: 'object', name: 'object', version: 'Int64', size: 'Int64', sha256: 'object' });
    expect(imp.result!.frame!.data[0]!.slice(0, 3)).toEqual(['ok', 'churn', 1]);
    // What a notebook renders: the DataFrame's own HTML.
    expect(imp.result!.mime).toContain('text/html');
    expect(imp.result!.html).toContain('<table border="1" class="dataframe">');
  });

  it('runs a cell of several queries: shows each, returns the last, stores them with -o', (ctx) => {
    needPython(ctx);
    const cell = cells[2]!;
    expect(cell.error).toBeUndefined();
    expect(cell.outputs).toHaveLength(1);
    expect(cell.outputs[0]!['text/html']).toContain('<td>churn</td>');
    expect(cell.result!.frame).toEqual({ columns: ['name', 'value'], index: [0, 1], data: [['type', 'sklearn'], ['category', 'classification']] });
    const [kind, n, dtypes, missing, tz] = JSON.parse(cells[3]!.stdout) as [string, number, string[], number, string];
    expect([kind, n, missing, tz]).toEqual(['list', 2, 0, 'UTC']);
    expect(dtypes).toEqual(['Int64', 'object', expect.stringMatching(/^datetime64\[\w+, UTC\]$/)]);
  });

  it('shows a failing query as the console does, without a Python traceback, after the results before it', (ctx) => {
    needPython(ctx);
    const cell = cells[4]!;
    expect(cell.success).toBe(false);
    expect(cell.error).toMatchObject({ type: 'QueryError', code: 'PARSE_ERROR' });
    expect(cell.error!.rendered).toBe(
      'parse error at stdin, line 2, column 21: head takes a whole number of rows, like head 5; found x\n  mlmodel list | head x\n                      ^',
    );
    expect(cell.stdout).not.toContain('Traceback');
    expect(cell.outputs.map((o) => o['text/html'] ?? '').join('')).toContain('<td>churn</td>');
  });

  it('answers usage mistakes with a usage message', (ctx) => {
    needPython(ctx);
    expect(cells[5]!.error).toMatchObject({ type: 'UsageError' });
    expect(cells[5]!.error!.rendered).toContain('%mlmodel needs a query');
    expect(cells[6]!.error!.rendered).toContain('unknown option --bogus');
  });

  it('cuts a cell into statements with the CLI’s own splitter (`;`, quotes over lines, `\\`, comments)', (ctx) => {
    needPython(ctx);
    expect(cells[7]!.error).toBeUndefined();
    expect(JSON.parse(cells[7]!.stdout)).toEqual(CUT_RESULTS);
  });

  it('gives each column type its dtype, nulls included', (ctx) => {
    needPython(ctx);
    const [dtypes, t0, j0, nulls, kind] = JSON.parse(cells[9]!.stdout) as [Record<string, string>, string, unknown, boolean[], string];
    expect(dtypes).toEqual({ l: 'Int64', d: 'float64', b: 'boolean', t: expect.stringMatching(/^datetime64\[\w+, UTC\]$/), j: 'object', s: 'object' });
    expect(t0).toBe('2020-01-01 18:04:05+00:00');
    expect(j0).toEqual({ a: [1] });
    expect(nulls).toEqual([true, true, true, true, true, true]);
    expect(kind).toBe('DATETIME');
  });

  it('passes the query text verbatim: no {…} or $ expansion by IPython', (ctx) => {
    needPython(ctx);
    expect(cells[10]!.error).toBeUndefined();
    expect(cells[11]!.result!.type).toBe('Result');
    expect(cells[11]!.result!.html).toContain('<tr><td>parameter</td><td>{&quot;epochs&quot;:5}</td></tr>');
    expect(cells[11]!.result!.html).toContain('<tr><td>label</td><td>$epochs</td></tr>');
    // Each on its own, too (IPython expands nothing if any part fails, so the first case alone proves little).
    expect(cells[12]!.error).toBeUndefined();
    expect(cells[13]!.result!.html).toContain('<tr><td>label</td><td>$epochs</td></tr>');
    expect(cells[13]!.result!.html).toContain('<tr><td>description</td><td>{epochs}</td></tr>');
  });

  it('shows the CLI’s help for %mlmodel help and help TOPIC, and a did-you-mean for a topic it does not know', async (ctx) => {
    needPython(ctx);
    const cliHelp = async (topic: string) => (await run(process.execPath, [CLI, 'help', ...(topic ? [topic] : [])])).stdout;
    expect(cells[14]!.error).toBeUndefined();
    expect(cells[14]!.stdout).toBe(await cliHelp(''));
    expect(cells[14]!.stdout).toMatch(/^Commands:\n {2}mlmodel list /);
    expect(cells[15]!.stdout).toBe(await cliHelp('deploy'));
    expect(cells[15]!.stdout).toMatch(/^mlmodel deploy — /);
    expect(cells[15]!.stdout).toContain('label=');
    expect(cells[16]!.error).toMatchObject({ type: 'QueryError', code: 'UNKNOWN_TOPIC' });
    expect(cells[16]!.error!.rendered).toContain('no help on deplyo; did you mean help deploy?');
    // Help needs no server: it is the CLI's even when queries go to a URL (here nothing listens).
    expect(cells[17]!.error).toBeUndefined();
    expect(cells[17]!.stdout).toBe(await cliHelp('summary'));
  });

  it('types a summary’s values by the types the result carries: numbers, UTC times, lists, JSON; after stages too', (ctx) => {
    needPython(ctx);
    expect(cells[18]!.error).toBeUndefined();
    expect(cells[19]!.error).toBeUndefined();
    const [rows, types, create, sorted] = JSON.parse(cells[19]!.stdout) as [Record<string, [string, unknown]>, Record<string, string>, string, [string, string][]];
    expect(rows.id).toEqual(['int', expect.any(Number)]);
    expect(rows.version).toEqual(['int', 1]);
    expect(rows.size![0]).toBe('int');
    expect(rows.train_cnt).toEqual(['int', 100]);
    expect(rows.elapsed).toEqual(['float', 1.5]);
    expect(rows.parameter).toEqual(['dict', { epochs: 5 }]);
    expect(rows.tags).toEqual(['list', ['a', 'b']]);
    expect(rows.evaluation).toEqual(['list', []]);
    expect(rows.name).toEqual(['str', 'counted']);
    expect(rows.category).toEqual(['NoneType', null]);
    // The same instant as list's typed create column, as a UTC pandas Timestamp.
    expect(rows.cdate).toEqual(['Timestamp', create]);
    expect(rows.mdate![0]).toBe('Timestamp');
    expect(types).toMatchObject({ id: 'LONG', cdate: 'DATETIME', elapsed: 'DOUBLE', parameter: 'JSON', tags: 'JSON', name: 'TEXT' });
    expect(sorted).toEqual([
      ['train_cnt', 'int'],
      ['cdate', 'Timestamp'],
    ]);
  });

  it('expands {var} and $var only when asked (--expand or %config MlmodelMagics.expand), {{ and $$ literal', (ctx) => {
    needPython(ctx);
    expect(cells[20]!.error).toBeUndefined();
    expect(cells[20]!.result!.frame!.data).toEqual([['id', expect.any(Number)]]);
    expect(cells[21]!.error).toBeUndefined();
    expect(cells[22]!.result!.html).toContain('<tr><td>parameter</td><td>{&quot;k&quot;:7}</td></tr>');
    expect(cells[22]!.result!.html).toContain('<tr><td>description</td><td>counted</td></tr>');
    expect(cells[23]!.error).toMatchObject({ type: 'UsageError' });
    expect(cells[23]!.error!.rendered).toContain("--expand: cannot expand the query: NameError: name 'nope' is not defined");
    expect(cells[24]!.error).toBeUndefined();
    expect(cells[24]!.result!.frame!.data).toEqual([['name', 'braced']]);
    expect(cells[25]!.error).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(cells[25]!.error!.rendered).toContain('{m}');
  });

  it('turns each kind of typed value into its Python type, and leaves a row it does not name as text', (ctx) => {
    needPython(ctx);
    expect(cells[26]!.error).toBeUndefined();
    expect(JSON.parse(cells[26]!.stdout)).toEqual([
      ['l', 'int', '3'],
      ['d', 'float', '2.5'],
      ['b', 'bool', 'False'],
      ['t', 'Timestamp', '2020-01-01 18:04:05+00:00'],
      ['j', 'dict', "{'a': [1]}"],
      ['s', 'str', 'x'],
      ['n', 'NoneType', 'None'],
      ['other', 'str', '7'],
    ]);
  });

  it('escapes every cell of the HTML table', (ctx) => {
    needPython(ctx);
    const html = cells[8]!.result!.html!;
    expect(html).toContain('<th data-type="TEXT">a&lt;b</th>');
    expect(html).toContain('<td>&lt;script&gt;x&lt;/script&gt;</td>');
    expect(html).not.toContain('<script>');
  });
});

/** Every column type through to_dataframe, with a row of values and a row of nulls. */
const ALL_TYPES = `import json
from mlmodel_magic import Result
cols = [{"name": n, "type": t} for n, t in [("l", "LONG"), ("d", "DOUBLE"), ("b", "BOOLEAN"), ("t", "DATETIME"), ("j", "JSON"), ("s", "TEXT")]]
df = Result(cols, [[1, 1.5, True, "2020-01-02T03:04:05+09:00", {"a": [1]}, "x"], [None] * 6]).to_dataframe()
print(json.dumps([{k: str(v) for k, v in df.dtypes.items()}, str(df["t"][0]), df["j"][0], [bool(x) for x in df.isna().iloc[1]], df.attrs["mlmodel_types"]["t"]]))`;

/** A summary as a DataFrame: each value's Python type and value; list's create; the types after sort and where. */
const TYPED_SUMMARY = `import json
df = get_ipython().run_line_magic('mlmodel', 'summary counted')
rows = {n: [type(v).__name__, v.isoformat() if hasattr(v, 'isoformat') else v] for n, v in zip(df['name'], df['value'])}
created = get_ipython().run_line_magic('mlmodel', 'list | where name = counted | fields create')['create'][0]
sorted_ = get_ipython().run_line_magic('mlmodel', 'summary counted | where name = cdate or name = train_cnt | sort -name')
print(json.dumps([rows, df.attrs['mlmodel_value_types'], created.isoformat(), [[n, type(v).__name__] for n, v in zip(sorted_['name'], sorted_['value'])]]))`;

/** Each type a typed value may have, through to_dataframe; a row the map does not name stays text. */
const TYPED_EVERY_KIND = `import json
from mlmodel_magic import Result
kinds = {"l": ("LONG", 3), "d": ("DOUBLE", 2.5), "b": ("BOOLEAN", False), "t": ("DATETIME", "2020-01-02T03:04:05+09:00"), "j": ("JSON", {"a": [1]}), "s": ("TEXT", "x"), "n": ("LONG", None)}
typed = {k: {"type": t, "value": v} for k, (t, v) in kinds.items()}
rows = [[k, "text"] for k in kinds] + [["other", "7"]]
df = Result([{"name": "name", "type": "TEXT"}, {"name": "value", "type": "TEXT", "typed": typed}], rows).to_dataframe()
print(json.dumps([[n, type(v).__name__, str(v)] for n, v in zip(df["name"], df["value"])]))`;

/**
 * A cell the splitter must cut into four statements, some without their
 * `mlmodel`: two on one line, one continued by `\` past a comment, one whose
 * quoted name spans a line break (so it matches no model). The magic prints
 * what each returned.
 */
const CUT_SCRIPT =
  "# c\r\nlist | fields name; mlmodel summary churn \\\n# inside\n  type\n\n   # indented comment\nlist | where name = 'chu\nrn' | fields name\nserving status churn";
/** What each result of a cell held, as text, whether the magic returned DataFrames or Results. */
const CUT_HELPER = `def cut(parts):
    return [[list(map(str, p.columns)), p.astype(str).values.tolist()] if hasattr(p, 'to_numpy') else [p.names, [[str(c) for c in r] for r in p.rows]] for p in parts]`;
const CUT_CELL = `import json
${CUT_HELPER}
get_ipython().run_cell_magic('mlmodel', '-o parts', ${JSON.stringify(CUT_SCRIPT)})
print(json.dumps(cut(parts)))`;
const CUT_RESULTS = [
  [['name'], [['churn']]],
  [['name', 'value'], [['type', 'sklearn']]],
  [['name'], []],
  [['version', 'state', 'label', 'deployed_at', 'reason'], []],
];

describe('%%mlmodel over the HTTP query API, without pandas', () => {
  let h: Harness;
  let cells: CellReport[];
  beforeAll(async () => {
    const py = ready();
    if (!py) return;
    h = await startHarness();
    mkdirSync(h.inbox, { recursive: true });
    writeFileSync(join(h.inbox, 'm.tar'), archives.tfSavedModel());
    cells = await ipython(
      py,
      [
        '%load_ext mlmodel_magic',
        `%mlmodel import name=vision type=tf path=${join(h.inbox, 'm.tar')}`,
        '%%mlmodel\nlist | fields user, name, modified',
        '%%mlmodel\nlist\n\nlist | sort',
        '%mlmodel --token-env NO_SUCH_TOKEN list',
        `%mlmodel --url ${'http://127.0.0.1:9/'} list`,
        `import json
${CUT_HELPER}
get_ipython().run_cell_magic('mlmodel', '-o parts', "list | fields name; serving status vision\\nlist | where name = 'vi\\nsion' \\\\\\n  | fields name")
print(json.dumps(cut(parts)))`,
        `import json
r = get_ipython().run_line_magic('mlmodel', 'summary vision | where name = id or name = mdate or name = user')
print(json.dumps([r.rows, r.typed_values(1), r.typed_values(0)]))`,
      ],
      { MLMODEL_URL: h.url, MLMODEL_TOKEN: TOKENS.alice, MLMODEL_TEST_HIDE_PANDAS: '1' },
    );
  }, 180_000);
  afterAll(async () => {
    await h?.close();
  });

  it('runs as the token’s user and returns an HTML table when pandas is missing', (ctx) => {
    needPython(ctx);
    expect(cells[1]!.error).toBeUndefined();
    expect(cells[1]!.result!.type).toBe('Result');
    const list = cells[2]!.result!;
    expect(list.type).toBe('Result');
    expect(list.mime).toEqual(['text/html', 'text/plain']);
    expect(list.html).toMatch(
      /^<table class="mlmodel">\n<thead><tr><th data-type="TEXT">user<\/th><th data-type="TEXT">name<\/th><th data-type="DATETIME">modified<\/th><\/tr><\/thead>\n<tbody>\n<tr><td>alice<\/td><td>vision<\/td><td>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00<\/td><\/tr>\n<\/tbody>\n<\/table>\n<p>1 row<\/p>$/,
    );
    expect(list.plain).toContain('user | name | modified');
  });

  it('shows a parse error at its line in the cell, with a caret', (ctx) => {
    needPython(ctx);
    const cell = cells[3]!;
    expect(cell.error).toMatchObject({ type: 'QueryError', code: 'PARSE_ERROR' });
    expect(cell.error!.rendered).toMatch(/^parse error at line 3, column 20: .+\n {2}mlmodel list \| sort\n {21}\^$/);
    expect(cell.outputs).toHaveLength(1);
    expect(cell.stdout).not.toContain('Traceback');
  });

  it('reports a missing token and an unreachable server as errors', (ctx) => {
    needPython(ctx);
    expect(cells[4]!.error).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(cells[4]!.error!.rendered).toContain('a bearer token is required');
    expect(cells[5]!.error).toMatchObject({ code: 'UNREACHABLE' });
    expect(cells[5]!.error!.rendered).toContain('cannot reach http://127.0.0.1:9');
  });

  it('carries a summary’s typed values in the API’s fields, for a Result without pandas too', (ctx) => {
    needPython(ctx);
    expect(cells[7]!.error).toBeUndefined();
    const [rows, typed, names] = JSON.parse(cells[7]!.stdout) as [[string, string][], [string, unknown][], null];
    expect(rows.map((r) => r[0])).toEqual(['id', 'user', 'mdate']);
    expect(rows[2]![1]).toMatch(/^\d{14}$/); // the text stays IRIS's stamp
    expect(typed).toEqual([
      ['LONG', Number(rows[0]![1])],
      ['TEXT', 'alice'],
      ['DATETIME', expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)],
    ]);
    // The stamp (TZ=UTC here) and the instant are the same time.
    expect((typed[2]![1] as string).replace(/\D/g, '').slice(0, 14)).toBe(rows[2]![1]);
    expect(names).toBeNull();
  });

  it('sends the cell whole and the server cuts it with the one splitter', (ctx) => {
    needPython(ctx);
    expect(cells[6]!.error).toBeUndefined();
    expect(JSON.parse(cells[6]!.stdout)).toEqual([
      [['name'], [['vision']]],
      [['version', 'state', 'label', 'deployed_at', 'reason'], []],
      [['name'], []],
    ]);
  });
});
