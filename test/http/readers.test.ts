import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { commandWrites, language } from '../../src/language.js';
import { archives } from '../integration/archives.js';
import { call, startHarness, type Harness } from './harness.js';

/**
 * `http.readers`: users who may only read. What reads and what writes is
 * each command module's own declaration; the server names no command.
 */
describe('read-only users over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ httpConfig: '  readers: [bob]\n' });
    writeFileSync(join(h.inbox, 'mnist.tar'), archives.tfSavedModel());
    const imported = await call(h, 'POST', '/query', { token: 'ops', body: { q: `mlmodel import name=mnist type=tf path=${join(h.inbox, 'mnist.tar')}` } });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
  });
  afterAll(() => h.close());

  it('answers every command that does not write, and refuses every one that does, leaving the model as it was', async () => {
    const queries: Record<string, string> = {
      list: 'mlmodel list',
      summary: 'mlmodel summary mnist',
      delete: 'mlmodel delete mnist',
      rename: 'mlmodel rename mnist as other',
      import: `mlmodel import name=x type=tf path=${join(h.inbox, 'mnist.tar')}`,
      export: `mlmodel export name=mnist path=${join(h.inbox, 'copy.tar')}`,
      deploy: 'mlmodel deploy mnist',
      stop: 'mlmodel stop mnist',
      versions: 'mlmodel versions mnist',
      tag: 'mlmodel tag mnist a',
      untag: 'mlmodel untag mnist a',
      alias: 'mlmodel alias mnist@1 best',
      unalias: 'mlmodel unalias mnist best',
      files: 'mlmodel files mnist',
      pull: `mlmodel pull mnist to=${join(h.inbox, 'out')}`,
      verify: 'mlmodel verify mnist',
      fsck: 'mlmodel fsck',
      'fsck repair': 'mlmodel fsck repair=true',
      servingStatus: 'serving status mnist',
    };
    // Every command of the list is tried (a new command must be added here, or this fails).
    const kinds = new Set(Object.values(queries).map((q) => language.parse(q).command.kind));
    for (const c of COMMANDS) for (const k of c.syntax.kind ? [c.syntax.kind] : c.syntax.keywords) expect([...kinds], k).toContain(k);
    for (const [what, q] of Object.entries(queries)) {
      const r = await call(h, 'POST', '/query', { token: 'bob', body: { q } });
      if (commandWrites(language.parse(q).command)) {
        expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(403);
        expect(JSON.stringify(r.body), what).toContain('may only read');
      } else {
        expect([200, 404, 409], `${what}: ${JSON.stringify(r.body)}`).toContain(r.status);
        expect(r.status, `${what}: ${JSON.stringify(r.body)}`).not.toBe(403);
      }
      // Jobs are held to the same rule.
      const job = await call(h, 'POST', '/query/jobs', { token: 'bob', body: { q } });
      expect(job.status === 403, `${what} as a job`).toBe(commandWrites(language.parse(q).command));
    }
    const after = await call(h, 'POST', '/query', { token: 'ops', body: { q: 'mlmodel versions mnist' } });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body.results).toHaveLength(1);
    // Another user is not a reader.
    const alice = await call(h, 'POST', '/query', { token: 'alice', body: { q: `mlmodel import name=mine type=tf path=${join(h.inbox, 'mnist.tar')}` } });
    expect(alice.status, JSON.stringify(alice.body)).toBe(200);
  });
});
