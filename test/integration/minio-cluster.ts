/**
 * The distributed MinIO of scripts/test-servers.mjs (startDistributedMinio),
 * typed for the tests, and what the tests ask of it beyond S3: which drive
 * directories hold an object, and a SIGKILLed node brought back.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
// @ts-expect-error -- a plain .mjs script without type declarations
import { startDistributedMinio } from '../../scripts/test-servers.mjs';

export interface ClusterNode {
  readonly index: number;
  readonly port: number;
  /** The node's drive directory. */
  readonly drive: string;
  readonly logFile: string;
  /** http://USER:PASSWORD@127.0.0.1:PORT */
  readonly url: string;
  readonly kills: number;
  readonly starts: number;
  readonly running: boolean;
  /** Starts it (again) on the same drive and port, and waits until it answers. */
  start(timeoutMs?: number): Promise<void>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** madmin's HealResultItem, as much as the tests read. */
export interface HealItem {
  type: string;
  bucket: string;
  object: string;
  before: { drives: Array<{ endpoint: string; state: string }> | null };
  after: { drives: Array<{ endpoint: string; state: string }> | null };
}

export interface MinioCluster {
  readonly nodes: ClusterNode[];
  readonly dir: string;
  readonly url: string;
  admin(method: string, path: string, body?: string, node?: ClusterNode): Promise<{ status: number; text: string; json: unknown }>;
  /** Until every running node writes to every running drive. */
  waitOnline(timeoutMs?: number): Promise<void>;
  heal(bucket: string, timeoutMs?: number): Promise<{ summary: string; detail: string; items: HealItem[] }>;
  stop(): Promise<void>;
}

export function startCluster(log: (m: string) => void = () => {}): Promise<MinioCluster> {
  return startDistributedMinio({ log }) as Promise<MinioCluster>;
}

/**
 * The drives (node indexes) whose directory holds OBJECT of BUCKET: MinIO
 * keeps every object as `<drive>/<bucket>/<object>/xl.meta` (its erasure
 * shard, or the whole of a small object, beside it or inline).
 */
export async function drivesHolding(cluster: MinioCluster, bucket: string, object: string): Promise<number[]> {
  const held: number[] = [];
  for (const node of cluster.nodes) {
    const meta = await stat(join(node.drive, bucket, ...object.split('/'), 'xl.meta')).catch(() => null);
    if (meta?.isFile()) held.push(node.index);
  }
  return held;
}
