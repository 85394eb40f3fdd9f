import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { TOKENS } from '../http/harness.js';
import type { RealModels } from './real-models.js';

export interface ServedHome {
  readonly root: string;
  /** The config file `mlmodel serve --config` reads: alice's and bob's tokens, bob a reader. */
  readonly configFile: string;
  /** Open on the home; the caller closes it. */
  readonly registry: Registry;
}

/**
 * A throw-away home for the serve suites: the query API's tokens in a
 * config file, and the real iris model imported and deployed.
 */
export async function servedHome(models: RealModels, prefix: string): Promise<ServedHome> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const configFile = join(root, 'config.yaml');
  writeFileSync(configFile, `user: root\nhttp:\n  tokens:\n    ${TOKENS.alice}: alice\n    ${TOKENS.bob}: bob\n  readers: [bob]\n`);
  const registry = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home') }, { config: configFile }) });
  await registry.run(`mlmodel import name=iris type=onnx path=${join(models.dir, 'iris_lr.tar')}`);
  await registry.run('mlmodel deploy iris');
  return { root, configFile, registry };
}
