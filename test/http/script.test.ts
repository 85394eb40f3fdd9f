import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitScript } from '../../grammar/index.js';
import { archives } from '../integration/archives.js';
import { call, startHarness, type Harness } from './harness.js';

/** `POST /query/script`: a script cut by the one splitter, run in turn, stopping at the first failure. */
describe('HTTP scripts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ httpConfig: '  readers: [bob]\n' });
    writeFileSync(join(h.inbox, 'm.tar'), archives.tfSavedModel());
    const r = await call(h, 'POST', '/query', { token: 'alice', body: { q: `mlmodel import name=m1 type=tf path=${join(h.inbox, 'm.tar')}` } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });
  afterAll(() => h.close());

  it('answers each statement’s result with its line and text, as the CLI cuts them', async () => {
    const script = "mlmodel list | fields name; mlmodel summary m1 \\\n  type\n# a comment\nmlmodel list | where name = 'm\n1' | fields name\n";
    const r = await call(h, 'POST', '/query/script', { token: 'alice', body: { script } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const cut = splitScript(script);
    expect(r.body.results.map((x: { line: number; query: string }) => [x.line, x.query])).toEqual(cut.map((s) => [s.line, s.text]));
    expect(r.body.results.map((x: { results: unknown[] }) => x.results)).toEqual([[['m1']], [['type', 'tf']], []]);
    expect(r.body.results[0].fields).toEqual([{ name: 'name', type: 'TEXT' }]);
  });

  it('lets statements leave out mlmodel only when asked', async () => {
    const asked = await call(h, 'POST', '/query/script', { token: 'alice', body: { script: 'list | fields name\nserving status m1\n* | mlmodel list | fields name', implicitCommand: true } });
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    expect(asked.body.results[0].query).toBe('mlmodel list | fields name');
    expect(asked.body.results[1].query).toBe('serving status m1');
    expect(asked.body.results[2].query).toBe('* | mlmodel list | fields name');
    const not = await call(h, 'POST', '/query/script', { token: 'alice', body: { script: 'list | fields name' } });
    expect(not.status).toBe(400);
    expect(not.body.error.code).toBe('PARSE_ERROR');
  });

  it('stops at the first failure: the results before it, the error with its statement, under the error’s status', async () => {
    const parse = await call(h, 'POST', '/query/script', { token: 'alice', body: { script: 'mlmodel list | fields name\n\nmlmodel list | sort\nmlmodel list' } });
    expect(parse.status).toBe(400);
    expect(parse.body.results).toHaveLength(1);
    expect(parse.body.statement).toEqual({ line: 3, text: 'mlmodel list | sort' });
    // Positions are the statement's own, as for /query.
    expect(parse.body.error).toMatchObject({ code: 'PARSE_ERROR', line: 1, column: 20 });

    const missing = await call(h, 'POST', '/query/script', { token: 'alice', body: { script: 'mlmodel list | fields name; mlmodel summary nope; mlmodel list' } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'MODEL_NOT_FOUND', details: { name: 'nope' } });
    expect(missing.body.statement.text.trim()).toBe('mlmodel summary nope');
    expect(missing.body.results).toHaveLength(1);
  });

  it('holds a read-only user to reads before anything runs past the write', async () => {
    const r = await call(h, 'POST', '/query/script', { token: 'bob', body: { script: 'mlmodel list | fields name\nmlmodel delete m1\nmlmodel list' } });
    expect(r.status).toBe(403);
    expect(r.body.results).toHaveLength(1);
    expect(r.body.statement.line).toBe(2);
    const still = await call(h, 'POST', '/query', { token: 'alice', body: { q: 'mlmodel versions m1' } });
    expect(still.body.results).toHaveLength(1);
  });

  it('refuses bodies that are not a script', async () => {
    for (const body of [{}, { script: 3 }, { script: '' }, { script: '# only a comment\n' }, { script: 'mlmodel list', implicitCommand: 'yes' }]) {
      const r = await call(h, 'POST', '/query/script', { token: 'alice', body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code, JSON.stringify(body)).toBe('BAD_REQUEST');
    }
  });

  it('answers any script of list statements with one result per statement the splitter finds', async () => {
    const piece = fc.constantFrom('mlmodel list | fields name', 'mlmodel list | head 1', '# note', '', '   ', "mlmodel list | where name = 'a;b'");
    const sep = fc.constantFrom('\n', ';', '\r\n', ' ; ', '\n\n');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(piece, sep), { minLength: 1, maxLength: 8 }), async (parts) => {
        const script = parts.map(([p, s]) => p + s).join('');
        const statements = splitScript(script);
        const r = await call(h, 'POST', '/query/script', { token: 'alice', body: { script } });
        if (statements.length === 0) {
          expect(r.status).toBe(400);
          return;
        }
        expect(r.status, `${JSON.stringify(script)} ${JSON.stringify(r.body)}`).toBe(200);
        expect(r.body.results.map((x: { query: string }) => x.query)).toEqual(statements.map((s) => s.text));
      }),
      { numRuns: 40 },
    );
  });
});
