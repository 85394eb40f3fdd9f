import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { parse } from '../../../src/language.js';
import { MlmodelError } from '../../../src/errors.js';
import { col, type ResultTable } from '../../../src/result/table.js';
import { ReplApp } from '../../../console/repl/app.js';
import { ReplController } from '../../../console/repl/controller.js';
import { describeError } from '../../../console/errors.js';
import type { ReplBackend, RunRequest } from '../../../console/repl/session.js';
import { EMPTY_CATALOG } from '../../../console/repl/complete.js';

/** The REPL's Ink components over a stand-in engine: keys in, frames out. */

const MODELS: ResultTable = {
  columns: [col('id', 'LONG'), col('name', 'TEXT'), col('type', 'TEXT')],
  rows: [
    [1, 'mnist_v1', 'tf'],
    [2, '한국어_모델', 'sklearn'],
  ],
};

interface FakeBackend extends ReplBackend {
  readonly queries: string[];
  /** Settles a pending slow query from the test. */
  progress?: RunRequest['onProgress'];
  aborted: boolean;
}

function fakeBackend(): FakeBackend {
  const b: FakeBackend = {
    queries: [],
    aborted: false,
    async run(text, request) {
      b.queries.push(text);
      parse(text);
      if (/import/.test(text)) {
        // A slow import: reports progress until cancelled.
        b.progress = request.onProgress;
        return new Promise<ResultTable>((_, reject) => {
          request.signal.addEventListener('abort', () => {
            b.aborted = true;
            reject(new MlmodelError('CANCELLED', 'the query was cancelled'));
          });
        });
      }
      if (/summary nope/.test(text)) throw new MlmodelError('MODEL_NOT_FOUND', 'no model called nope');
      return MODELS;
    },
    async catalog() {
      return { ...EMPTY_CATALOG, models: ['mnist_v1', 'mnist_v2', 'iris'], fields: ['id', 'name', 'type'] };
    },
    describeError: (e) => describeError(e),
  };
  return b;
}

const tick = () => new Promise((r) => setTimeout(r, 10));

async function until(test: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

function setup(history: string[] = []) {
  const backend = fakeBackend();
  const entries = [...history];
  let clock = 0;
  const controller = new ReplController({
    backend,
    history: { entries, add: (e: string) => entries.push(e) },
    width: 100,
    now: () => clock,
    progressIntervalMs: 0,
  });
  const app = render(createElement(ReplApp, { controller, color: false }));
  const frame = () => app.lastFrame() ?? '';
  return { backend, controller, app, frame, entries, advance: (ms: number) => (clock += ms) };
}

afterEach(() => cleanup());

describe('ReplApp', () => {
  it('shows a prompt, echoes the typed query and prints the rendered table', async () => {
    const { app, frame, backend } = setup();
    await until(() => frame().includes('mlmodel>'), 'the prompt');
    app.stdin.write('mlmodel list');
    await until(() => frame().includes('mlmodel> mlmodel list'), 'the typed text');
    app.stdin.write('\r');
    await until(() => frame().includes('(2 rows)'), 'the table');
    expect(backend.queries).toEqual(['mlmodel list']);
    const lines = frame().split('\n');
    // Hangul counts two columns: every line of the box is as wide as the header.
    const box = lines.filter((l) => /^[┌│├└]/.test(l));
    const width = (s: string) => [...s].reduce((w, ch) => w + (/[\uac00-\ud7a3]/.test(ch) ? 2 : 1), 0);
    expect(new Set(box.map(width)).size).toBe(1);
    expect(frame()).toMatch(/│ +2 │ 한국어_모델 │ sklearn │/);
  });

  it('completes a model name with Tab and lists candidates when ambiguous', async () => {
    const { app, frame, controller } = setup();
    await until(() => controller.catalog.models.length > 0, 'the catalog');
    app.stdin.write('mlmodel summary ir');
    await tick();
    app.stdin.write('\t');
    await until(() => frame().includes('mlmodel> mlmodel summary iris'), 'the completed name');
    expect(controller.snapshot.editor.text).toBe('mlmodel summary iris ');
    app.stdin.write('\x15'); // Ctrl-U
    app.stdin.write('mlmodel summary mn');
    await tick();
    app.stdin.write('\t');
    // Both candidates share "mnist_v": that much is filled in.
    await until(() => frame().includes('mlmodel> mlmodel summary mnist_v'), 'the common prefix');
    app.stdin.write('\t');
    await until(() => frame().includes('mnist_v1  mnist_v2'), 'the candidates');
  });

  it('recalls history with Up and finds with Ctrl-R', async () => {
    const { app, frame } = setup(['mlmodel list', 'mlmodel summary mnist_v1', 'help']);
    await until(() => frame().includes('mlmodel>'), 'the prompt');
    app.stdin.write('\x1b[A');
    await until(() => frame().includes('mlmodel> help'), 'the last entry');
    app.stdin.write('\x1b[A');
    await until(() => frame().includes('mlmodel> mlmodel summary mnist_v1'), 'the entry before');
    app.stdin.write('\x1b[B');
    app.stdin.write('\x1b[B');
    await until(() => /mlmodel> $/m.test(frame()) || frame().trimEnd().endsWith('mlmodel>'), 'the fresh line');
    app.stdin.write('\x12'); // Ctrl-R
    app.stdin.write('list');
    await until(() => frame().includes("(reverse-i-search)'list': mlmodel list"), 'the search');
    app.stdin.write('\x07'); // Ctrl-G leaves the search
    await until(() => !frame().includes('reverse-i-search'), 'the prompt again');
  });

  it('shows the progress of a long query and cancels it on Ctrl-C without leaving', async () => {
    const { app, frame, backend, advance, controller } = setup();
    await until(() => frame().includes('mlmodel>'), 'the prompt');
    app.stdin.write('mlmodel import name=a type=tf path=/x.tar\r');
    await until(() => backend.progress !== undefined, 'the query to start');
    expect(frame()).toContain('running… (Ctrl-C cancels)');
    backend.progress!({ phase: 'import', done: 0, total: 4 * 1024 * 1024 });
    advance(1000);
    backend.progress!({ phase: 'import', done: 1024 * 1024, total: 4 * 1024 * 1024 });
    await until(() => /import +\[█+░+\] +25% +1\.00 MiB \/ 4\.00 MiB +1\.00 MiB\/s +ETA 3s/.test(frame()), 'the progress bar');
    app.stdin.write('\x03');
    await until(() => frame().includes('cancelled'), 'the cancellation');
    expect(backend.aborted).toBe(true);
    await until(() => frame().trimEnd().endsWith('mlmodel>'), 'the prompt back');
    expect(controller.snapshot.exited).toBe(false);
  });

  it('prints errors, help and the \\x switch', async () => {
    const { app, frame } = setup();
    await until(() => frame().includes('mlmodel>'), 'the prompt');
    app.stdin.write('mlmodel summary nope\r');
    await until(() => frame().includes('error: no model called nope (MODEL_NOT_FOUND)'), 'the error');
    app.stdin.write('mlmodel llist\r');
    await until(() => frame().includes('[llist] is not a mlmodel action. Did you mean list?'), 'the parse error');
    app.stdin.write('help deplyo\r');
    await until(() => frame().includes('no help on deplyo; did you mean help deploy?'), 'the help suggestion');
    app.stdin.write('help head\r');
    await until(() => frame().includes('| HEAD COUNT'), 'the BNF');
    app.stdin.write('\\x\r');
    await until(() => frame().includes('Expanded display is on.'), 'the switch');
    app.stdin.write('mlmodel list\r');
    await until(() => frame().includes('-[ RECORD 2 ]'), 'expanded records');
    expect(frame()).toMatch(/name \| 한국어_모델/);
    // Round and back to the default: on → off → auto.
    app.stdin.write('\\x\r');
    await until(() => frame().includes('Expanded display is off.'), 'off');
    app.stdin.write('\\x\r');
    await until(() => frame().includes('Expanded display is used automatically.'), 'auto again');
  });

  it('continues on an open quote and exits on Ctrl-C twice at an empty prompt', async () => {
    const { app, frame, backend, controller } = setup();
    await until(() => frame().includes('mlmodel>'), 'the prompt');
    app.stdin.write("mlmodel list | where name = 'a\r");
    await until(() => frame().endsWith("mlmodel> mlmodel list | where name = 'a\n      ->"), 'the continuation prompt');
    app.stdin.write("b'\r");
    await until(() => backend.queries.length === 1, 'the query');
    expect(backend.queries[0]).toBe("mlmodel list | where name = 'a\nb'");
    app.stdin.write('\x03');
    await until(() => frame().includes('To leave, press Ctrl-C again or Ctrl-D'), 'the hint');
    expect(controller.snapshot.exited).toBe(false);
    app.stdin.write('\x03');
    await until(() => controller.snapshot.exited, 'the exit');
  });

  it('exits on Ctrl-D at an empty line but deletes a character on a non-empty one', async () => {
    const { app, frame, controller } = setup();
    await until(() => frame().includes('mlmodel>'), 'the prompt');
    app.stdin.write('mlmodel lisst');
    app.stdin.write('\x1b[D\x1b[D');
    app.stdin.write('\x04');
    await until(() => frame().includes('mlmodel> mlmodel list'), 'the deleted character');
    expect(controller.snapshot.exited).toBe(false);
    app.stdin.write('\x05\x15'); // Ctrl-E, Ctrl-U: an empty line
    app.stdin.write('\x04');
    await until(() => controller.snapshot.exited, 'the exit');
  });
});
