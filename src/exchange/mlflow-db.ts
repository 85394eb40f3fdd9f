/**
 * An MLflow registry read from its tracking database (SQLite), as MLflow
 * 2.x/3.x lays it out, opened read-only.
 */
import { MlmodelError } from '../errors.js';
import type { MlflowModelVersion, MlflowReader, MlflowRegisteredModel, Pair } from './mlflow-source.js';

type Row = Record<string, unknown>;

const text = (v: unknown) => (v === null || v === undefined || v === '' ? null : String(v));
const pairs = (rows: Row[]): Pair[] => rows.map((t) => [String(t.key), t.value === null ? null : String(t.value)]);

export async function openMlflowDb(dbPath: string): Promise<MlflowReader> {
  const { default: Database } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new MlmodelError('INVALID_ARGUMENT', `cannot open ${dbPath} as an MLflow tracking database: ${(e as Error).message}`, { path: dbPath });
  }
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Row[]).map((r) => String(r.name)));
    for (const t of ['registered_models', 'model_versions', 'runs']) {
      if (!tables.has(t)) throw new MlmodelError('INVALID_ARGUMENT', `${dbPath} is not an MLflow tracking database (no table ${t})`, { path: dbPath });
    }
    const all = (sql: string, ...args: unknown[]) => (tables.has(/FROM (\w+)/.exec(sql)![1]!) ? (db.prepare(sql).all(...args) as Row[]) : []);
    const versionColumns = new Set((db.prepare('PRAGMA table_info(model_versions)').all() as Row[]).map((r) => String(r.name)));
    const sources = new Map<string, string>();
    return {
      async models(only) {
        return all('SELECT name, creation_time, description FROM registered_models ORDER BY name')
          .filter((m) => only === undefined || m.name === only)
          .map(
            (m): MlflowRegisteredModel => ({
              name: String(m.name),
              creation: Number(m.creation_time),
              description: text(m.description),
              tags: pairs(all('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key', m.name)),
              aliases: all('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias', m.name).map((a) => ({ alias: String(a.alias), version: Number(a.version) })),
            }),
          );
      },
      async versions(name) {
        return all('SELECT * FROM model_versions WHERE name = ? ORDER BY CAST(version AS INTEGER)', name).map((v): MlflowModelVersion => {
          sources.set(`${name}\u0000${Number(v.version)}`, String((versionColumns.has('storage_location') && v.storage_location) || v.source));
          return {
            version: Number(v.version),
            status: text(v.status),
            creation: Number(v.creation_time),
            lastUpdated: v.last_updated_time === null || v.last_updated_time === undefined ? null : Number(v.last_updated_time),
            description: text(v.description),
            stage: text(v.current_stage),
            user: text(v.user_id),
            runId: text(v.run_id),
            tags: pairs(all('SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key', name, String(v.version))),
          };
        });
      },
      async run(runId) {
        return {
          params: all('SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key', runId).map((p): [string, string] => [String(p.key), String(p.value)]),
          metrics: all('SELECT key, value FROM latest_metrics WHERE run_uuid = ? ORDER BY key', runId).map((p): [string, number] => [String(p.key), Number(p.value)]),
        };
      },
      async artifactUri(name, v) {
        const source = sources.get(`${name}\u0000${v.version}`)!;
        if (source.startsWith('models:/') && tables.has('logged_models')) {
          const row = db.prepare('SELECT artifact_location FROM logged_models WHERE model_id = ?').get(source.slice('models:/'.length)) as Row | undefined;
          return row ? { uri: String(row.artifact_location) } : { why: `its source ${source} names a logged model the database does not hold` };
        }
        if (source.startsWith('runs:/')) {
          const [, runId, ...rest] = source.slice('runs:/'.length - 1).split('/');
          const row = db.prepare('SELECT artifact_uri FROM runs WHERE run_uuid = ?').get(runId) as Row | undefined;
          return row ? { uri: `${String(row.artifact_uri).replace(/\/+$/, '')}/${rest.join('/')}` } : { why: `its source ${source} names a run the database does not hold` };
        }
        return { uri: source };
      },
      close: () => db.close(),
    };
  } catch (e) {
    db.close();
    throw e;
  }
}
