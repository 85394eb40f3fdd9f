import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import { UNBUNDLE_COLUMNS } from '../exchange/publish-bundle.js';
import { unbundleStream } from '../exchange/stream-bundle.js';
import { optionValues } from '../executor/options.js';
import { openSource } from '../executor/source.js';

const syntax = {
  keywords: ['unbundle'],
  args: [{ kind: 'options' }],
  options: {
    path: { type: 'path', required: true, summary: 'where the bundle is: OBJECTSTORAGE.<CONNECTOR>:<KEY>, FILE:<path> or an absolute path' },
    name: { type: 'string', summary: "the model's name here (default: the name in the bundle)" },
    sha256: { type: 'string', summary: "the manifest digest bundle answered with: the bundle is refused unless its manifest's matches" },
  },
} as const;

export type UnbundleCommand = CommandAst<typeof syntax>;

/**
 * `mlmodel unbundle path=LOCATION [name=N] [sha256=MANIFEST_DIGEST]`: checks
 * every byte of a bundle against its manifest, and the manifest against its
 * digest, before anything is published; then adds the versions this
 * registry lacks, as the current user's model. One mismatch or conflict
 * refuses the whole bundle and leaves nothing behind (docs/exchange.md).
 */
export async function executeUnbundle(ctx: EngineContext, cmd: UnbundleCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  if (o.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(o.sha256)) {
    throw new MlmodelError('INVALID_ARGUMENT', 'sha256= is the 64 hex digits of a manifest digest (bundle answers with it as manifest_sha256)', { sha256: o.sha256 });
  }
  // A bundle is mostly large archives: 1 MiB reads, as the object stores' own, are a sixteenth of the system calls.
  const source = await openSource(ctx, o.path, 1 << 20);
  return unbundleStream(ctx, source.stream, { ...(o.name === undefined ? {} : { name: o.name }), ...(o.sha256 ? { expectedSha256: o.sha256 } : {}) });
}

export const unbundleCommand = defineCommand({
  syntax,
  summary: 'Imports a bundle (made by bundle) into this registry: every digest is checked before anything is published; versions already here with the same sha256 are skipped.',
  examples: ['mlmodel unbundle path=/srv/bundles/mnist.tar', 'mlmodel unbundle path=OBJECTSTORAGE.MINIO:bundles/mnist-2.tar name=mnist_copy'],
  notes: ['A version here with the same number and other bytes, or an alias here pointing elsewhere, refuses the whole bundle.'],
  columns: UNBUNDLE_COLUMNS,
  writes: true,
  execute: executeUnbundle,
});
