/**
 * bundle checks every stored archive against its record as it writes it: a
 * version whose stored bytes were changed (same size; a large archive and a
 * small one) fails the bundle with CHECKSUM_MISMATCH and leaves no file;
 * intact ones round-trip through unbundle with the same manifest.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { isMlmodelError } from '../../src/errors.js';
import { F } from '../../src/store/filter.js';
import { openStores } from '../../src/store/open.js';
import { file, tar } from '../archive/tar-writer.js';
import { column, embeddedRegistry, type TestRegistry } from './stores.js';

let work: string;
let source: TestRegistry;
let target: TestRegistry;
// Several MiB: many chunks of the store's stream, the last ones changed.
const big = tar(file('model.onnx', randomBytes(9 * 1024 * 1024)));
const small = tar(file('model.onnx', randomBytes(5000)));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlmodel-bundle-check-'));
  source = await embeddedRegistry();
  target = await embeddedRegistry();
  for (const [i, body] of [big, small].entries()) {
    await writeFile(join(work, `v${i}.tar`), body);
    await source.reg.run(`mlmodel import name=m type=onnx path=${join(work, `v${i}.tar`)}`);
  }
}, 60_000);

afterAll(async () => {
  await source?.close();
  await target?.close();
});

it('a large and a small archive round-trip; changed stored bytes fail the bundle and leave no file', async () => {
  const out = join(work, 'ok.tar');
  const made = await source.reg.run(`mlmodel bundle m to=${out} all=true`);
  await target.reg.run(`mlmodel unbundle path=${out}`);
  const again = await target.reg.run(`mlmodel bundle m to=${join(work, 'again.tar')} all=true`);
  expect(column(again, 'manifest_sha256')).toEqual(column(made, 'manifest_sha256'));

  const stores = await openStores(loadConfig(source.env));
  try {
    for (const version of [1, 2]) {
      const [r] = await stores.metadata.findModels({ filter: F.eq('version', version) });
      const original = version === 1 ? big : small;
      const changed = Buffer.from(original);
      const at = changed.length - 2048 - 1;
      changed[at] = changed[at]! ^ 0xff;
      await stores.objects.put(r!.object_key, Readable.from([changed]));
      const to = join(work, `bad-${version}.tar`);
      const e: unknown = await source.reg.run(`mlmodel bundle m@${version} to=${to}`).then(
        () => null,
        (x: unknown) => x,
      );
      expect(isMlmodelError(e, 'CHECKSUM_MISMATCH') && /does not match its record/.test(e.message)).toBe(true);
      expect(existsSync(to)).toBe(false);
      await stores.objects.put(r!.object_key, Readable.from([original]));
      await source.reg.run(`mlmodel bundle m@${version} to=${to}`);
      expect(existsSync(to)).toBe(true);
    }
  } finally {
    await stores.close();
  }
}, 120_000);
