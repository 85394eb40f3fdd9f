import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containsSecret, decodeEntry, encodeEntry, History } from '../../../console/repl/history.js';
import { Secret } from '../../../src/config/redact.js';

const dir = () => mkdtempSync(join(tmpdir(), 'mlmodel-history-'));

describe('history', () => {
  it('keeps entries across sessions, one a line, multi-line entries escaped, mode 0600', async () => {
    const file = join(dir(), 'sub', 'history');
    const h = await History.load(file);
    expect(await h.add('mlmodel list')).toBe(true);
    expect(await h.add('mlmodel list')).toBe(false);
    expect(await h.add('   ')).toBe(false);
    await h.add('mlmodel list \\\n| where name = "a\\\\b"');
    await h.flush();
    expect(readFileSync(file, 'utf8')).toBe('mlmodel list\nmlmodel list \\\\\\n| where name = "a\\\\\\\\b"\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await History.load(file);
    expect(again.entries).toEqual(['mlmodel list', 'mlmodel list \\\n| where name = "a\\\\b"']);
  });

  it('round-trips any text through the file encoding', () => {
    for (const s of ['a\\nb', 'a\nb', '\\', '\\\\n', 'x\\\ny', '모델 \\']) expect(decodeEntry(encodeEntry(s))).toBe(s);
    expect(encodeEntry('a\nb')).not.toContain('\n');
  });

  it('never writes an entry holding a credential, but recalls it in the session', async () => {
    const file = join(dir(), 'history');
    const h = await History.load(file, { secrets: [new Secret('hunter2hunter2')] });
    expect(await h.add('mlmodel import name=a type=tf path=OBJECTSTORAGE.S3:k token=abc')).toBe(false);
    expect(await h.add('mlmodel list | where description = hunter2hunter2')).toBe(false);
    expect(await h.add('mlmodel import name=a type=tf path=http://ak:pw@host/b/k.tar')).toBe(false);
    expect(await h.add('mlmodel list')).toBe(true);
    await h.flush();
    expect(h.entries).toHaveLength(4);
    expect(readFileSync(file, 'utf8')).toBe('mlmodel list\n');
  });

  it('recognises credentials the way the config redacts them', () => {
    expect(containsSecret('x password=p')).toBe(true);
    expect(containsSecret('x SECRET_KEY=abc')).toBe(true);
    expect(containsSecret('x access_key = abc')).toBe(true);
    expect(containsSecret('https://h/x?X-Amz-Signature=abcdef')).toBe(true);
    expect(containsSecret('mongodb://user:pw@host/db')).toBe(true);
    expect(containsSecret('mlmodel list | where name = secretive')).toBe(false);
    expect(containsSecret('mlmodel export name=a path=OBJECTSTORAGE.MINIO:out/a.tar')).toBe(false);
  });

  it('cleans a file that holds secrets or has grown past twice its limit', async () => {
    const file = join(dir(), 'history');
    const lines = Array.from({ length: 25 }, (_, i) => `mlmodel summary m${i}`);
    writeFileSync(file, [...lines, 'x token=t0ps3cret'].join('\n') + '\n');
    const h = await History.load(file, { limit: 10 });
    expect(h.entries).toEqual(lines.slice(-10));
    expect(readFileSync(file, 'utf8')).toBe(lines.slice(-10).join('\n') + '\n');
    // Below twice the limit the file is left alone; the console still starts with the last `limit`.
    writeFileSync(file, lines.slice(0, 15).join('\n') + '\n');
    expect((await History.load(file, { limit: 10 })).entries).toEqual(lines.slice(5, 15));
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(16);
  });
});
