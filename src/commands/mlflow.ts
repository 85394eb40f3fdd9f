import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { col, type Cell, type ResultTable } from '../result/table.js';
import { readMlflowRegistry } from '../exchange/mlflow-import.js';
import { openMlflowDb } from '../exchange/mlflow-db.js';
import { openMlflowRest } from '../exchange/mlflow-rest.js';
import { s3Artifacts } from '../exchange/mlflow-s3.js';
import { publishBundle } from '../exchange/publish-bundle.js';
import { checkLocalRoots, parsePathOption } from '../executor/location.js';
import { checkModelName } from '../executor/names.js';
import { optionValues } from '../executor/options.js';

const syntax = {
  keywords: ['mlflow'],
  args: [{ kind: 'options' }],
  options: {
    db: { type: 'path', summary: "the MLflow tracking database (SQLite file, what mlflow's sqlite:/// URI names): an absolute path" },
    url: {
      type: 'string',
      summary:
        "instead of db=: the MLflow tracking server (http(s)://[user:password@]host:port), read over its REST API; credentials as MLflow's clients take them (the URL's user and password, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN), never printed",
    },
    s3: { type: 'string', summary: "a connector (config connectors:) on the bucket of MLflow's S3 artifact store: s3://BUCKET/… artifact URIs are read through it" },
    model: { type: 'string', summary: 'only this registered model (default: every one)' },
    name: { type: 'string', summary: 'its name here (with model=; default: the MLflow name)' },
  },
} as const;

export type MlflowCommand = CommandAst<typeof syntax>;

export const MLFLOW_COLUMNS = [col('result', 'TEXT'), col('mlflow_name', 'TEXT'), col('name', 'TEXT'), col('version', 'LONG'), col('sha256', 'TEXT'), col('note', 'TEXT')];

/**
 * `mlmodel mlflow db=/abs/mlflow.db | url=http://host:port [s3=CONNECTOR]
 * [model=NAME [name=NEW]]`: imports an MLflow model registry from its
 * tracking database or its tracking server's REST API — registered models,
 * versions with their artifacts (from a file artifact store, an S3 store
 * through a connector, or the server's artifact proxy), tags,
 * aliases, descriptions, and the source runs' params and latest metrics as
 * metadata — as the current user's models, through the same checked path as
 * unbundle. One row per version (imported, present, skipped) and one per
 * model that says what was not carried over or carried in another form.
 */
export async function executeMlflow(ctx: EngineContext, cmd: MlflowCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  if (o.name !== undefined && o.model === undefined) throw new MlmodelError('INVALID_ARGUMENT', 'name= renames one model: give model= too');
  if ((o.db === undefined) === (o.url === undefined)) throw new MlmodelError('INVALID_ARGUMENT', 'give db=FILE (the tracking database) or url=URL (the tracking server), one of them');
  const s3 = o.s3 === undefined ? undefined : s3Artifacts(o.s3, await ctx.connector(o.s3));
  let reader;
  if (o.db !== undefined) {
    const target = parsePathOption(o.db);
    if (target.kind !== 'file') throw new MlmodelError('INVALID_ARGUMENT', 'db= is a local SQLite file: give an absolute path', { db: o.db });
    await checkLocalRoots(target.path, ctx.localRoots, o.db);
    reader = await openMlflowDb(target.path);
  } else reader = openMlflowRest(o.url!, ctx.signal, ctx.mlflow);
  const registry = await readMlflowRegistry(reader, {
    ...(s3 ? { s3 } : {}),
    ...(o.model === undefined ? {} : { only: o.model }),
    user: ctx.user,
    checkName: (n) => checkModelName(o.name ?? n),
  });
  const rows: Cell[][] = [];
  try {
    for (const m of registry.models) {
      for (const l of m.left) rows.push(['skipped', m.mlflowName, m.name, l.version, null, `not carried over: ${l.why}`]);
      if (m.model === null || m.versions.length === 0) {
        rows.push(['skipped', m.mlflowName, null, null, null, m.notes[0] ?? 'not carried over: no version could be']);
        continue;
      }
      try {
        const table = await publishBundle(ctx, { model: m.model, versions: m.versions, deployments: [], skipped: [] });
        for (const r of table.rows) rows.push([r[0]!, m.mlflowName, r[1]!, r[2]!, r[4]!, r[5]!]);
        for (const n of m.notes) rows.push(['note', m.mlflowName, m.model.name, null, null, n]);
      } catch (e) {
        if (!isMlmodelError(e)) throw e;
        rows.push(['failed', m.mlflowName, m.model.name, null, null, `${e.code}: ${e.message}`]);
      }
    }
  } finally {
    await registry.close();
  }
  return { columns: MLFLOW_COLUMNS, rows };
}

export const mlflowCommand = defineCommand({
  syntax,
  summary: "Imports an MLflow model registry from its tracking database or its tracking server: models, versions with artifacts, tags, aliases, descriptions, runs' params and metrics as metadata.",
  examples: [
    'mlmodel mlflow db=/srv/mlflow/mlflow.db',
    'mlmodel mlflow db=/srv/mlflow/mlflow.db model=iris name=iris_from_mlflow',
    'mlmodel mlflow url=http://mlflow.internal:5000',
    'mlmodel mlflow url=https://mlflow.internal s3=MLFLOW_ARTIFACTS model=fraud',
  ],
  notes: [
    'Each model is imported whole or not at all; the rows say, per model, what was not carried over.',
    "Artifacts are read from a file store on this machine, from an S3 store through the connector s3= names, or (url=) through the server's artifact proxy (mlflow server --serve-artifacts).",
  ],
  columns: MLFLOW_COLUMNS,
  writes: true,
  execute: executeMlflow,
});
