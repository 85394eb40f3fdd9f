/**
 * Another registry reached as a remote (config `registries:`,
 * docs/exchange.md): its own metadata store, object store and serving base,
 * opened the way that registry opens them, and an EngineContext over them
 * acting as the local user, so that publishing into it is the very path an
 * unbundle there takes (publish-bundle.ts), locks and leases included.
 */
import { randomUUID } from 'node:crypto';
import type { Config, RemoteRegistryConfig } from '../config/index.js';
import type { EngineContext } from '../engine/context.js';
import { openServingTarget } from '../engine/registry.js';
import { MlmodelError } from '../errors.js';
import { openStores } from '../store/open.js';
import { openTrackingStore } from '../tracking/open.js';
import type { TrackingStore } from '../tracking/store.js';

export interface RemoteRegistry {
  readonly name: string;
  readonly display: string;
  /** A context on the remote's stores for the command running in `local`: the same user, signal and clock. */
  context(local: EngineContext): EngineContext;
  close(): Promise<void>;
}

/** The remote registry configured as `name` (any case); INVALID_ARGUMENT naming the configured ones if there is none. */
export function remoteRegistryConfig(config: Config, name: string): RemoteRegistryConfig {
  const r = config.registries[name.toLowerCase()];
  if (!r) {
    const known = Object.keys(config.registries).sort();
    throw new MlmodelError(
      'INVALID_ARGUMENT',
      `no registry called "${name}" is configured; ${known.length ? `configured: ${known.join(', ')}` : 'none is (add registries: to the config file, or MLMODEL_REGISTRY_<NAME>=<home directory>)'}`,
      { registry: name, known },
    );
  }
  return r;
}

export async function openRemoteRegistry(config: Config, name: string): Promise<RemoteRegistry> {
  const r = remoteRegistryConfig(config, name);
  // The remote's own stores, with this configuration's secrets (which hold the remote's passwords) for redaction.
  const remoteConfig: Config = { ...config, metadata: r.metadata, objects: r.objects, servingBase: r.servingBase, modelStore: null, registries: {} };
  const stores = await openStores(remoteConfig);
  let serving;
  try {
    serving = await openServingTarget(remoteConfig);
  } catch (e) {
    await stores.close();
    throw e;
  }
  let tracking: Promise<TrackingStore> | null = null;
  const openTracking = (): Promise<TrackingStore> => {
    tracking ??= openTrackingStore(remoteConfig, stores.metadata).catch((e: unknown) => {
      tracking = null;
      throw e;
    });
    return tracking;
  };
  return {
    name: name.toLowerCase(),
    display: r.display,
    context: (local) => ({
      meta: stores.metadata,
      objects: stores.objects,
      serving,
      tracking: openTracking,
      connector: (c) => {
        // Connectors are this registry's settings; the remote's are not known here.
        throw new MlmodelError('CONNECTOR_UNKNOWN', `connector "${c}" is not reachable through registry ${name}`, { connector: c });
      },
      localRoots: local.localRoots,
      user: local.user,
      admin: false,
      signal: local.signal,
      onProgress: local.onProgress,
      now: local.now,
      newUid: randomUUID,
      modelStore: null,
    }),
    async close() {
      if (tracking) await tracking.then((t) => t.close()).catch(() => undefined);
      await stores.close();
    },
  };
}
