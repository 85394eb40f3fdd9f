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
    // Every example of every command module: a new command is tried as soon as it is declared.
    const queries: Record<string, string> = Object.fromEntries(COMMANDS.flatMap((c) => c.examples.map((e) => [e, e.replace(/mnist_v1/g, 'mnist')])));
    const kinds = new Set(Object.values(queries).map((q) => language.parse(q).command.kind));
    for (const c of COMMANDS) expect([...kinds], c.syntax.keywords[0]).toContain(c.syntax.kind ?? c.syntax.keywords[0]);
    // Both sides of the line are tried: some examples read, some write, and fsck does either.
    const writes = Object.values(queries).map((q) => commandWrites(language.parse(q).command));
    expect(writes).toContain(true);
    expect(writes).toContain(false);
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
