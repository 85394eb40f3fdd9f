import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractArchive } from '../archive/index.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { readManifest } from '../executor/manifest.js';
import type { ModelRecord } from '../store/metadata.js';
import { loadOnnxModel, type LoadedModel } from './onnx-runtime.js';

/** The model file of an onnx version, as its archive holds it (checked against its manifest). */
export async function readRecordModelFile(ctx: EngineContext, record: ModelRecord): Promise<Buffer> {
  if (record.type !== 'onnx' || record.filename === null) {
    throw new MlmodelError('INVALID_ARGUMENT', `${record.name}@${record.version} is a ${record.type} model; predict and signature read onnx models`, {
      name: record.name,
      type: record.type,
    });
  }
  const manifest = await readManifest(ctx, record.uid);
  // A private directory: extractArchive checks every file against the manifest as it writes.
  const dir = await mkdtemp(join(tmpdir(), 'mlmodel-model-'));
  try {
    await extractArchive(await ctx.objects.get(record.object_key), join(dir, 'tree'), { manifest, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    return await readFile(join(dir, 'tree', ...record.filename.split('/')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Loaded models of registry versions, kept per process (the REPL, the HTTP
 * server, a notebook run many predicts): keyed by the version's uid and
 * archive checksum, which never change; the least recently used goes past
 * `max`. A load in flight is shared, not repeated.
 */
export class RecordModelCache {
  readonly #loaded = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly max = 8) {}

  get(ctx: EngineContext, record: ModelRecord): Promise<LoadedModel> {
    const key = `${record.uid}:${record.sha256}`;
    let p = this.#loaded.get(key);
    if (p) {
      this.#loaded.delete(key);
      this.#loaded.set(key, p);
      return p;
    }
    p = readRecordModelFile(ctx, record).then((bytes) => loadOnnxModel(bytes));
    p.catch(() => this.#loaded.delete(key));
    this.#loaded.set(key, p);
    while (this.#loaded.size > this.max) {
      const [oldest, loaded] = this.#loaded.entries().next().value as [string, Promise<LoadedModel>];
      this.#loaded.delete(oldest);
      // Freed once the predicts running on it are done (LoadedModel.release waits for them).
      void loaded.then((m) => m.release(), () => undefined).catch(() => undefined);
    }
    return p;
  }
}

/** The process's cache: `predict` from the console, the HTTP API, the library. */
export const recordModels = new RecordModelCache();
