/**
 * What the three-readers tests share: the constructions named in issue 15.3
 * and the import suite that runs on each store pair (the server pair from
 * test/integration/, where the test servers are started).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError, MlmodelError } from '../../src/errors.js';
import { objectStoreFor } from '../../src/store/open.js';
import { archiveArb, archiveBytes, describe as describeArchive } from '../archive/header-variations.js';
import { file, gnuLong, header, pax, tar } from '../archive/tar-writer.js';
import { otherReaders, othersDisagree, ourReading, treeOf, type Tree } from '../archive/three-readers.js';

export const SEED = Number(process.env['MLMODEL_READERS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
/** Figures printed at the end of each file. */
export const figures: Record<string, unknown> = { seed: SEED };

const GRAPH = 'graph bytes';
const SAVED = file('saved_model.pb', GRAPH);

/**
 * The constructions of the issue. Each "holds only saved_model.pb" (or that
 * plus one harmless entry) to at least one reader, and something else to
 * another.
 */
export const ISSUE_CASES: Array<{ what: string; bytes: Buffer; reason: string }> = [
  { what: 'two pax headers for one entry', bytes: tar(pax({ path: '../../../evil.pb' }), pax({ path: 'saved_model.pb' }), file('x', GRAPH)), reason: 'ambiguous-header' },
  { what: 'a GNU long name, then a pax path', bytes: tar(gnuLong('../../../evil.pb'), pax({ path: 'saved_model.pb' }), file('x', GRAPH)), reason: 'ambiguous-header' },
  { what: 'two GNU long names for one entry', bytes: tar(gnuLong('../../../evil.pb'), gnuLong('saved_model.pb'), file('x', GRAPH)), reason: 'ambiguous-header' },
  { what: 'prefix-field bytes in a GNU-format header', bytes: tar(file('saved_model.pb', GRAPH, { magic: 'gnu', prefix: '../../..' })), reason: 'ambiguous-header' },
  { what: 'prefix-field bytes in a v7-format header', bytes: tar(file('saved_model.pb', GRAPH, { magic: 'v7', prefix: '../../..' })), reason: 'ambiguous-header' },
  { what: "type 7 with a trailing slash", bytes: tar(SAVED, header({ name: 'variables/', type: '7' })), reason: 'ambiguous-header' },
  { what: "type 0 with a trailing slash", bytes: tar(SAVED, header({ name: 'variables/', type: '0' })), reason: 'ambiguous-header' },
  { what: 'type NUL named by a pax path with a trailing slash', bytes: tar(SAVED, pax({ path: 'variables/' }), header({ name: 'x', type: '\0' })), reason: 'ambiguous-header' },
  { what: 'type NUL with a trailing slash, renamed by a pax path without one', bytes: tar(SAVED, pax({ path: 'variables' }), header({ name: 'variables/', type: '\0' })), reason: 'ambiguous-header' },
  { what: 'type NUL named by a GNU long name with a trailing slash', bytes: tar(SAVED, gnuLong('variables/'), header({ name: 'x', type: '\0' })), reason: 'ambiguous-header' },
  { what: 'a garbled uid (GNU tar errors, Python ends its listing there)', bytes: tar(SAVED, file('variables.bin', 'w', { rawFields: { uid: 'zz' } })), reason: 'corrupt-header' },
  { what: 'a uid of "-1" (GNU tar takes it for base-64 and errors, Python reads -1)', bytes: tar(SAVED, file('variables.bin', 'w', { rawFields: { uid: '-1' } })), reason: 'corrupt-header' },
  { what: 'a mode of spaces only (GNU tar errors, Python reads 0)', bytes: tar(SAVED, file('variables.bin', 'w', { rawFields: { mode: '        ' } })), reason: 'corrupt-header' },
  { what: 'a base-256 size after 0x81', bytes: tar(SAVED, header({ name: 'b', rawSize: Buffer.from('810000000000000000000200', 'hex') }), Buffer.alloc(512)), reason: 'bad-size' },
  { what: 'a size after a leading NUL (GNU tar skips the NUL, Python reads 0)', bytes: tar(SAVED, header({ name: 'b', rawSize: '\u00000000001000\u0000' }), Buffer.alloc(512, 0x41)), reason: 'bad-size' },
  { what: 'a pax header that sets nothing, then the end', bytes: tar(SAVED, pax({ comment: 'dangling' })), reason: 'corrupt-header' },
  { what: 'a global header, then the end (Python fails)', bytes: tar(SAVED, pax({ comment: 'dangling' }, true)), reason: 'corrupt-header' },
];

/** A tar with a body big enough to span several deflate blocks. */
export const BIG = tar(SAVED, file('variables/variables.data', randomBytes(150_000)));

/** Import through the registry, on one store pair: refusals leave nothing; accepted archives import. */
export function importSuite(title: string, setupEnv: () => Promise<Env>, cleanup: () => Promise<void>): void {
  describe(title, () => {
    let reg: Registry;
    let inbox: string;
    let cases: Array<{ what: string; bytes: Buffer; refuse: boolean }> = [];
    const objectsNow = async (): Promise<string[]> => {
      const store = await objectStoreFor(reg.config);
      const keys: string[] = [];
      for await (const o of store.list('')) keys.push(o.key);
      return keys.sort();
    };

    beforeAll(async () => {
      reg = await openRegistry({ config: loadConfig(await setupEnv()) });
      inbox = await mkdtemp(join(tmpdir(), 'mlmodel-readers-inbox-'));
      // Generated archives on which GNU tar and Python disagree, and some all three read alike with a top-level saved_model.pb.
      const variations = fc.sample(archiveArb, { numRuns: 400, seed: SEED + 1 });
      const bytes = variations.map(archiveBytes);
      const others = await otherReaders(bytes);
      const disagreeing = variations.flatMap((v, i) => (othersDisagree(others[i]!) === undefined ? [] : [{ what: describeArchive(v), bytes: bytes[i]!, refuse: true }]));
      const agreed = variations.flatMap((v, i) => {
        const ours = ourReading(bytes[i]!);
        return ours.ok && ours.tree['saved_model.pb']?.startsWith('file') === true ? [{ what: describeArchive(v), bytes: bytes[i]!, refuse: false }] : [];
      });
      cases = [...ISSUE_CASES.map((c) => ({ what: c.what, bytes: c.bytes, refuse: true })), ...disagreeing.slice(0, 60), ...agreed.slice(0, 5)];
    }, 300_000);

    afterAll(async () => {
      await reg?.close();
      if (inbox !== undefined) await rm(inbox, { recursive: true, force: true });
      await cleanup();
    });

    it('refuses every archive the other readers read differently, leaving no record and no object; imports what all three agree on', async () => {
      const before = await objectsNow();
      let refused = 0;
      let imported = 0;
      const exported: Array<{ bytes: Buffer; tree: Tree }> = [];
      for (const [i, c] of cases.entries()) {
        const src = join(inbox, `${i}.tar`);
        await writeFile(src, c.bytes);
        const name = `readers_${i}`;
        const outcome = await reg.run(`mlmodel import name=${name} type=tf path=${src}`).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (c.refuse) {
          expect(outcome, c.what).toBeInstanceOf(MlmodelError);
          expect((outcome as MlmodelError).code, c.what).toBe('ARCHIVE_INVALID');
          // Refused for how it is read, not merely for lacking the model file.
          expect((outcome as MlmodelError).details['reason'], c.what).not.toBe('missing-required');
          expect((await reg.run(`mlmodel list | where name = ${name}`)).rows, c.what).toEqual([]);
          refused++;
        } else {
          // All three read the same tree, with a top-level saved_model.pb: import must accept it.
          expect(outcome, c.what).toBeUndefined();
          imported++;
          // What a consumer gets back is byte for byte what was checked.
          const out = join(inbox, `${i}.exported.tar`);
          await reg.run(`mlmodel export name=${name} path=${out}`);
          const bytes = await readFile(out);
          expect(bytes.equals(c.bytes), c.what).toBe(true);
          const ours = ourReading(bytes);
          expect(ours.ok, c.what).toBe(true);
          if (ours.ok) exported.push({ bytes, tree: ours.tree });
          await reg.run(`mlmodel delete ${name}`);
        }
        expect(await objectsNow(), c.what).toEqual(before);
      }
      // The exported archives, read by GNU tar and Python, give the tree import recorded.
      const readings = await otherReaders(exported.map((e) => e.bytes));
      for (const [i, e] of exported.entries()) {
        expect(othersDisagree(readings[i]!)).toBeUndefined();
        expect(treeOf(readings[i]!.gnu.tree)).toEqual(e.tree);
      }
      figures[`import ${title}`] = { refused, imported, exportedAndReadAlike: exported.length };
      expect(refused).toBeGreaterThanOrEqual(ISSUE_CASES.length + 20);
      expect(imported).toBeGreaterThan(0);
    }, 600_000);

    it('a zero-padded gzip archive imports, and no byte string keeps import from ending', async () => {
      const gz = gzipSync(BIG);
      const padded = Buffer.concat([gz, Buffer.alloc((1 << 20) - (gz.length % (1 << 20)))]);
      await writeFile(join(inbox, 'padded.tgz'), padded);
      expect((await reg.run(`mlmodel import name=readers_padded type=tf path=${join(inbox, 'padded.tgz')}`)).rows[0]![0]).toBe('ok');
      // Pull unpacks through the same decoder, with a file sink that pauses decompression.
      const pulled = join(inbox, 'pulled-padded');
      expect((await reg.run(`mlmodel pull readers_padded to=${pulled}`)).rows).toHaveLength(2);
      expect(await readFile(join(pulled, 'saved_model.pb'), 'utf8')).toBe(GRAPH);
      await reg.run('mlmodel delete readers_padded');
      const before = await objectsNow();
      const inputs = fc.sample(fc.oneof(fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)), archiveArb.map(archiveBytes).map((b) => gzipSync(b))), { numRuns: 40, seed: SEED + 2 });
      for (const [i, bytes] of inputs.entries()) {
        const src = join(inbox, `any-${i}.bin`);
        await writeFile(src, bytes);
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          reg.run(`mlmodel import name=readers_any_${i} type=tf path=${src}`).then(
            () => 'imported',
            (e: unknown) => (isMlmodelError(e) ? e.code : String(e)),
          ),
          new Promise<string>((res) => (timer = setTimeout(() => res('hang'), 30_000))),
        ]);
        clearTimeout(timer);
        expect(['imported', 'ARCHIVE_INVALID']).toContain(outcome);
        if (outcome === 'imported') await reg.run(`mlmodel delete readers_any_${i}`);
      }
      expect(await objectsNow()).toEqual(before);
    }, 600_000);
  });
}

