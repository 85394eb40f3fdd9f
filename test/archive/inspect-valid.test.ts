import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { create as tarCreate } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { MlmodelError } from '../../src/errors.js';
import { inspectArchive, type ModelType } from '../../src/archive/index.js';
import { inspect, refusal } from './run.js';
import { dir, file, gnuLong, pax, sha256, tar } from './tar-writer.js';

const MTIME = 1_700_000_000; // 2023-11-14T22:13:20Z

interface Case {
  type: ModelType;
  files: Record<string, string>;
  dirs?: string[];
  format: string;
  filename: string;
}

const CASES: Case[] = [
  { type: 'r', files: { 'model.rda': 'RDX3\nr-model', 'README.md': 'an R model' }, format: 'rda', filename: 'model.rda' },
  { type: 'sklearn', files: { 'model/model.pkl': '\x80\x04pickle', 'model/requirements.txt': 'scikit-learn' }, dirs: ['model/'], format: 'pickle', filename: 'model/model.pkl' },
  {
    type: 'spark',
    files: { 'data.parquet': 'PAR1....PAR1', metadata: '{"class":"org.apache.spark.ml.PipelineModel"}' },
    format: 'spark',
    filename: 'data.parquet',
  },
  {
    type: 'tf',
    files: { 'export/1/saved_model.pb': 'pb-bytes', 'export/1/variables/variables.index': 'idx', 'export/1/variables/variables.data-00000-of-00001': 'd' },
    dirs: ['export/', 'export/1/', 'export/1/variables/'],
    format: 'saved_model',
    filename: 'export/1/saved_model.pb',
  },
  { type: 'tf', files: { 'keras/model.h5': '\x89HDF\r\n' }, format: 'h5', filename: 'keras/model.h5' },
  { type: 'onnx', files: { 'model.onnx': 'onnx-proto', 'labels.txt': 'cat\ndog\n' }, format: 'onnx', filename: 'model.onnx' },
];

function build(c: Case): Buffer {
  return tar(...(c.dirs ?? []).map((d) => dir(d, { mtime: MTIME })), ...Object.entries(c.files).map(([n, d]) => file(n, d, { mtime: MTIME })));
}

describe('valid archives of each type', () => {
  for (const c of CASES) {
    for (const gzip of [false, true]) {
      it(`${c.type} → ${c.format} (${gzip ? 'gzip' : 'plain'})`, async () => {
        const raw = build(c);
        const input = gzip ? gzipSync(raw) : raw;
        const { report, out } = await inspect(input, { type: c.type }, 1000);
        expect(out.equals(input)).toBe(true);
        expect(report.sha256).toBe(sha256(input));
        expect(report.size).toBe(input.length);
        expect(report.compressed).toBe(gzip);
        expect(report.format).toBe(c.format);
        expect(report.filename).toBe(c.filename);
        expect(report.entries).toBe(Object.keys(c.files).length + (c.dirs?.length ?? 0));
        expect(report.totalUnpackedSize).toBe(Object.values(c.files).reduce((n, d) => n + Buffer.byteLength(d), 0));
        expect(report.manifest).toEqual(
          Object.entries(c.files).map(([path, data]) => ({
            path,
            size: Buffer.byteLength(data),
            mtime: '2023-11-14T22:13:20.000Z',
            sha256: sha256(data),
          })),
        );
      });
    }
  }
});

describe('main file and format choice', () => {
  it('prefers saved_model.pb over model.h5, and the shallowest match', async () => {
    const input = tar(file('a/b/model.h5', 'h5'), file('x/y/saved_model.pb', 'deep'), file('z/saved_model.pb', 'shallow'));
    const { report } = await inspect(input, { type: 'tf' });
    expect(report.format).toBe('saved_model');
    expect(report.filename).toBe('z/saved_model.pb');
  });

  it('accepts the Spark ML layout: data/part-*.parquet and a metadata/ directory', async () => {
    const input = tar(
      dir('stages/0_lr/'),
      dir('stages/0_lr/metadata/'),
      file('stages/0_lr/metadata/part-00000', '{"class":"LogisticRegressionModel"}'),
      file('stages/0_lr/metadata/_SUCCESS', ''),
      file('stages/0_lr/data/part-00000-1f2e.snappy.parquet', 'PAR1xPAR1'),
    );
    const { report } = await inspect(input, { type: 'spark' });
    expect(report.format).toBe('spark');
    expect(report.filename).toBe('stages/0_lr/data/part-00000-1f2e.snappy.parquet');
    expect(report.manifest.map((m) => m.path)).toEqual([
      'stages/0_lr/metadata/part-00000',
      'stages/0_lr/metadata/_SUCCESS',
      'stages/0_lr/data/part-00000-1f2e.snappy.parquet',
    ]);
  });

  it('does not count a .parquet file outside data/ as Spark data', async () => {
    const err = await refusal(tar(file('metadata/part-00000', '{}'), file('other/x.parquet', 'PAR1')), { type: 'spark' });
    expect(err.details['reason']).toBe('missing-required');
    expect(err.details['missing']).toEqual(['data.parquet (or *.parquet under data/)']);
  });
});

describe('missing required files', () => {
  const wrong = tar(file('notes.txt', 'nothing useful'), file('Model.PKL', 'wrong case'));
  const expected: Record<ModelType, RegExp> = {
    r: /must contain model\.rda; missing: model\.rda/,
    sklearn: /must contain model\.pkl; missing: model\.pkl/,
    spark: /missing: data\.parquet \(or \*\.parquet under data\/\), metadata/,
    tf: /must contain model\.h5 or saved_model\.pb/,
    onnx: /missing: model\.onnx/,
  };
  for (const [type, re] of Object.entries(expected)) {
    it(`${type}: names what is missing`, async () => {
      const err = await refusal(wrong, { type });
      expect(err.code).toBe('ARCHIVE_INVALID');
      expect(err.details['reason']).toBe('missing-required');
      expect(err.message).toMatch(re);
    });
  }

  it('spark with data but no metadata names only metadata', async () => {
    const err = await refusal(tar(file('data/part-0.parquet', 'PAR1')), { type: 'spark' });
    expect(err.details['missing']).toEqual(['metadata']);
  });
});

describe('arguments', () => {
  it('refuses an unknown type synchronously, listing the valid ones', () => {
    let thrown: unknown;
    try {
      inspectArchive(Readable.from([]), { type: 'pytorch' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MlmodelError);
    expect((thrown as MlmodelError).code).toBe('INVALID_ARGUMENT');
    expect((thrown as MlmodelError).message).toContain('valid types: r, sklearn, spark, tf, onnx');
  });

  it('reports cumulative progress in original bytes', async () => {
    const input = gzipSync(build(CASES[0]!));
    const seen: number[] = [];
    const { passthrough, result } = inspectArchive(Readable.from([input.subarray(0, 50), input.subarray(50)]), {
      type: 'r',
      onProgress: (n) => seen.push(n),
    });
    passthrough.resume();
    await result;
    expect(seen).toEqual([50, input.length]);
  });
});

describe('tar dialects', () => {
  it('reads every chunking of the same archive identically (1, 511, 513 and 64 KiB pieces)', async () => {
    const input = tar(dir('m/'), file('m/model.onnx', Buffer.alloc(3000, 7)), file('m/b', 'x'.repeat(513)));
    const reports = [];
    for (const size of [1, 511, 513, 65536]) reports.push((await inspect(input, { type: 'onnx' }, size)).report);
    for (const r of reports) expect(r).toEqual(reports[0]);
    expect(reports[0]!.manifest[0]!.sha256).toBe(sha256(Buffer.alloc(3000, 7)));
  });

  it('accepts GNU long names, pax paths and a git-archive global header', async () => {
    const long = `${'deep/'.repeat(30)}model.pkl`;
    const longer = `${'d'.repeat(120)}/notes.txt`;
    const input = tar(
      pax({ comment: '1f2e3d4c5b6a' }, true),
      gnuLong(long),
      file(long.slice(0, 99), 'pickle'),
      pax({ path: longer, mtime: '1700000000.5' }),
      file('short-name', 'notes'),
    );
    const { report } = await inspect(input, { type: 'sklearn' });
    expect(report.filename).toBe(long);
    expect(report.manifest.map((m) => [m.path, m.mtime])).toEqual([
      [long, '2023-11-14T22:13:20.000Z'],
      [longer, '2023-11-14T22:13:20.500Z'],
    ]);
  });

  it('reads ustar prefix fields and ./-relative names, and old-style directories', async () => {
    const input = tar(
      file('./', '', { type: '5' }),
      header5('olddir/'),
      file('saved_model.pb', 'pb', { prefix: `./${'p'.repeat(120)}` }),
    );
    const { report } = await inspect(input, { type: 'tf' });
    expect(report.filename).toBe(`${'p'.repeat(120)}/saved_model.pb`);
    expect(report.entries).toBe(3);
  });

  describe('archives written by node-tar', () => {
    const root = mkdtempSync(join(tmpdir(), 'mlmodel-archive-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it('reads a gzip archive of a directory tree with ./ names and long paths', async () => {
      const src = join(root, 'src');
      const deep = join(src, 'export', '1', 'variables', 'x'.repeat(90));
      mkdirSync(deep, { recursive: true });
      writeFileSync(join(src, 'export', '1', 'saved_model.pb'), 'graph');
      writeFileSync(join(deep, 'variables.data-00000-of-00001'), Buffer.alloc(70_000, 3));
      const chunks: Buffer[] = [];
      for await (const c of tarCreate({ cwd: src, gzip: true, portable: true }, ['.'])) chunks.push(c as Buffer);
      const input = Buffer.concat(chunks);
      const { report } = await inspect(input, { type: 'tf' }, 8192);
      expect(report.compressed).toBe(true);
      expect(report.filename).toBe('export/1/saved_model.pb');
      const big = report.manifest.find((m) => m.path.endsWith('variables.data-00000-of-00001'));
      expect(big?.path).toBe(`export/1/variables/${'x'.repeat(90)}/variables.data-00000-of-00001`);
      expect(big?.sha256).toBe(sha256(Buffer.alloc(70_000, 3)));
      expect(report.totalUnpackedSize).toBe(70_005);
    });
  });
});

/**
 * A v7-style directory: the NUL type flag (what v7 tar wrote) with a trailing
 * slash. Type '0' with a slash is refused: Python's tarfile reads it as a file.
 */
function header5(name: string): Buffer {
  return file(name, '', { type: '\0', magic: 'v7' });
}
