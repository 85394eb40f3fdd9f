/**
 * Private staging directories of the MLflow import (and of unbundle before
 * it streamed bundles into the store: stream-bundle.ts sweeps the ones a
 * killed one left), in the OS temporary directory. Their names carry the host and process id of the
 * process that made them (store/temporaries.ts writerTag), so a process
 * killed with a bundle half unpacked leaves a directory the next one
 * recognises as orphaned and removes before it stages its own: one whose
 * writer is on this host and no longer running. A directory of a live
 * process (or of another host, or with a reused pid) is never touched.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writerState, writerTag } from '../store/temporaries.js';

export type StagingKind = 'unbundle' | 'mlflow';

const marker = (kind: StagingKind) => `mlmodel-${kind}-tmp-`;

/** Removes the orphaned staging directories of `kind`; then makes a new one of this process's. */
export async function makeStaging(kind: StagingKind): Promise<string> {
  await sweepStaging(kind);
  return mkdtemp(join(tmpdir(), `${marker(kind)}${writerTag()}`));
}

/** The names of the staging directories of `kind` whose process is gone, removed. */
export async function sweepStaging(kind: StagingKind): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(tmpdir());
  } catch {
    // No temporary directory to read: mkdtemp will say so.
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(marker(kind)) || writerState(name) !== 'gone') continue;
    // Another process sweeping at the same moment may have taken it already: force.
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
