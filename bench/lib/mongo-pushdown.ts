/**
 * The MongoDB path, proved rather than timed: the registry's queries run
 * against a MongoDB-wire server (FerretDB from scripts/test-servers.mjs, or
 * $MLMODEL_TEST_MONGODB_URL / a `mongod` on PATH) with the driver's command
 * monitoring on. Each list query must reach the server as one `find` on
 * `models` carrying filter, sort and limit; for each we name the index the
 * registry created that a MongoDB planner can use for it (equality fields
 * first, then the sort in index order: the ESR rule). FerretDB's time is
 * reported only as an upper bound: on its SQLite backend it scans.
 */
import type { ImportCommand } from '../../src/commands/import.js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandStartedEvent } from 'mongodb';
import { parse } from '../../src/index.js';
import type { EngineContext } from '../../src/engine/context.js';
import { executePlan } from '../../src/executor/index.js';
import { executeImportBatch } from '../../src/executor/import-batch.js';
import { planQuery } from '../../src/planner/plan.js';
import { DirectoryServingTarget } from '../../src/serving/target.js';
import { DirectoryObjectStore } from '../../src/store/directory.js';
import { MongoMetadataStore } from '../../src/store/mongo.js';
import { importLine, smallArchives } from './archives.js';
import { benchCache, log } from './cache.js';
import { percentile } from './report.js';

interface IndexInfo {
  name: string;
  key: Record<string, 1 | -1>;
}

export interface PushdownReport {
  server: string;
  models: number;
  indexes: IndexInfo[];
  queries: Array<{
    key: string;
    query: string;
    commands: string[];
    find: { filter: unknown; sort: unknown; limit: unknown } | null;
    oneFind: boolean;
    index: string | null;
    ferretP50ms: number;
  }>;
}

/** Top-level equality fields of a filter (through $and), which an index can match exactly. */
function equalityFields(filter: Record<string, unknown>, out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and') for (const d of v as Record<string, unknown>[]) equalityFields(d, out);
    else if (!k.startsWith('$') && (v === null || typeof v !== 'object' || (v as Record<string, unknown>).$eq !== undefined)) out.add(k);
  }
  return out;
}

/**
 * The index a MongoDB planner can answer the find from without a blocking
 * sort: its leading keys are equality fields of the filter and the next keys
 * are the sort, all in index order or all reversed. Prefers the index that
 * matches the most equality fields.
 */
function usableIndex(
  indexes: IndexInfo[],
  filter: Record<string, unknown>,
  sort: Record<string, 1 | -1>,
  distinct: Record<string, number>,
): string | null {
  const eq = equalityFields(filter);
  const sortKeys = Object.entries(sort);
  let best: { name: string; score: number } | null = null;
  for (const ix of indexes) {
    const keys = Object.entries(ix.key);
    let i = 0;
    while (i < keys.length && eq.has(keys[i]![0])) i++;
    if (i === 0) continue;
    const rest = keys.slice(i);
    const fits = (dir: 1 | -1) => sortKeys.every(([f, d], k) => rest[k] && rest[k]![0] === f && rest[k]![1] * dir === d);
    const sortOk = sortKeys.length === 0 || fits(1) || fits(-1);
    // An equality prefix alone still serves the filter; a sort it cannot give costs a blocking sort of the matches.
    // Then the one whose equality keys narrow most (the planner's trial run keeps the plan that reads fewest keys).
    const narrows = keys.slice(0, i).reduce((n, [f]) => n * (distinct[f] ?? 1), 1);
    const score = (sortOk && sortKeys.length > 0 ? 1e12 : 0) + narrows * 4 + i * 2 + (sortOk ? 1 : 0);
    if (!best || score > best.score) best = { name: ix.name, score };
  }
  return best?.name ?? null;
}

export async function mongoPushdown(queries: Record<string, string>, models: number): Promise<PushdownReport | null> {
  const servers = (await import(new URL('../../../scripts/test-servers.mjs', import.meta.url).href)) as {
    startServers(o: { mongodb: boolean; minio: boolean; log: (m: string) => void }): Promise<{
      mongodbUrl: string | null;
      mongodbKind: string | null;
      errors: Record<string, string>;
      stop(): Promise<void>;
    }>;
  };
  const srv = await servers.startServers({ mongodb: true, minio: false, log: (m) => log(m) });
  if (!srv.mongodbUrl) {
    log(`MongoDB path skipped: ${srv.errors.mongodb ?? 'no server'}`);
    return null;
  }
  const work = mkdtempSync(join(tmpdir(), 'mlmodel-bench-mongo-'));
  const commands: CommandStartedEvent[] = [];
  const meta = new MongoMetadataStore({ url: srv.mongodbUrl, database: `bench_${process.pid}`, clientOptions: { monitorCommands: true } });
  try {
    await meta.init();
    const objects = new DirectoryObjectStore({ root: join(work, 'objects') });
    await objects.init();
    const ctx: EngineContext = {
      meta,
      objects,
      serving: new DirectoryServingTarget(join(work, 'serving')),
      connector: async () => {
        throw new Error('no connectors in this bench');
      },
      tracking: async () => {
        throw new Error('no tracking in this bench');
      },
      localRoots: null,
      user: 'bench',
      admin: false,
      signal: undefined,
      onProgress: undefined,
      now: () => new Date(),
      newUid: randomUUID,
    };
    const archives = smallArchives(join(benchCache('registry-v1'), 'archives'));
    log(`MongoDB path: seeding ${models} models into ${srv.mongodbKind} through the batch import`);
    for (let i = 0; i < models; i += 100) {
      const items = [];
      for (let k = i; k < Math.min(models, i + 100); k++) {
        const q = parse(importLine(k, archives));
        if (q.command.kind === 'import') items.push({ command: q.command as ImportCommand, stages: q.stages });
      }
      const out = await executeImportBatch(ctx, items, { stopAtError: true });
      const bad = out.find((o) => !('table' in o));
      if (bad) throw new Error(`seeding the MongoDB path failed: ${JSON.stringify(bad)}`);
    }
    const indexes = (await meta.client.db(`bench_${process.pid}`).collection('models').listIndexes().toArray()).map((i) => ({
      name: String(i.name),
      key: i.key as Record<string, 1 | -1>,
    }));
    const coll = meta.client.db(`bench_${process.pid}`).collection('models');
    const distinct: Record<string, number> = {};
    for (const f of new Set(indexes.flatMap((i) => Object.keys(i.key)))) distinct[f] = (await coll.distinct(f)).length;
    meta.client.on('commandStarted', (e: CommandStartedEvent) => commands.push(e));
    const report: PushdownReport = { server: srv.mongodbKind ?? 'MongoDB wire', models, indexes, queries: [] };
    for (const [key, query] of Object.entries(queries)) {
      commands.length = 0;
      await executePlan(ctx, planQuery(parse(query)));
      const seen = commands.filter((c) => !['hello', 'isMaster', 'ping', 'endSessions'].includes(c.commandName));
      const finds = seen.filter((c) => c.commandName === 'find');
      const raw = finds[0]?.command as { find: string; filter: Record<string, unknown>; sort?: unknown; limit?: number } | undefined;
      // The driver sends the sort as an ordered Map.
      const sort = (raw?.sort instanceof Map ? Object.fromEntries(raw.sort) : (raw?.sort ?? {})) as Record<string, 1 | -1>;
      const f = raw ? { ...raw, sort } : undefined;
      const ms: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        await executePlan(ctx, planQuery(parse(query)));
        ms.push(performance.now() - t);
      }
      report.queries.push({
        key,
        query,
        commands: seen.map((c) => `${c.commandName} ${String((c.command as Record<string, unknown>)[c.commandName])}`),
        find: f ? { filter: f.filter, sort: f.sort, limit: f.limit ?? null } : null,
        oneFind: key === 'summary' ? finds.length >= 1 : seen.length === 1 && finds.length === 1 && f?.find === 'models',
        index: f ? usableIndex(indexes, f.filter, f.sort, distinct) : null,
        ferretP50ms: percentile(ms, 50),
      });
    }
    return report;
  } finally {
    await meta.close().catch(() => undefined);
    await srv.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function printPushdown(r: PushdownReport): string {
  const lines = [`MongoDB path on ${r.server}, ${r.models} models: what reaches the server (driver command monitoring)`];
  for (const q of r.queries) {
    lines.push(`  ${q.query}`);
    lines.push(`    commands: ${q.commands.join('; ')}`);
    if (q.find) lines.push(`    find: filter ${JSON.stringify(q.find.filter)} sort ${JSON.stringify(q.find.sort)} limit ${q.find.limit ?? 'none'}`);
    lines.push(`    one find with filter, sort and limit: ${q.oneFind ? 'yes' : 'NO'}; index for it: ${q.index ?? 'none'}; ${r.server} p50 ${q.ferretP50ms.toFixed(1)} ms (a bound only)`);
  }
  lines.push(`  indexes the registry creates on models: ${r.indexes.map((i) => `${i.name} ${JSON.stringify(i.key)}`).join(', ')}`);
  const text = lines.join('\n');
  console.log(text + '\n');
  return text;
}
