import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { progressChannel } from '../../console/progress-channel.js';
import { topicHelp } from '../../console/repl/help.js';

const dir = mkdtempSync(join(tmpdir(), 'mlmodel-progress-channel-'));

interface Sent {
  phase?: string;
  done?: number;
  total?: number | null;
  fraction?: number | null;
  line?: string;
  clear?: boolean;
}

/** Runs `feed` against a channel on a fresh file's descriptor, with a clock the test moves; what was written. */
function written(feed: (ch: NonNullable<ReturnType<typeof progressChannel>>, clock: { t: number }) => void): Sent[] {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(file, 'w');
  const clock = { t: 0 };
  try {
    const ch = progressChannel({ MLMODEL_PROGRESS_FD: String(fd) }, () => clock.t)!;
    expect(ch).toBeDefined();
    feed(ch, clock);
  } finally {
    closeSync(fd);
  }
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Sent);
}

describe('the progress side channel (MLMODEL_PROGRESS_FD)', () => {
  it('is off unless it names a descriptor above stderr', () => {
    for (const v of [undefined, '', '0', '1', '2', 'x', '3x', '-4', '1e3', '9999999999']) expect(progressChannel({ MLMODEL_PROGRESS_FD: v })).toBeUndefined();
    expect(progressChannel({ MLMODEL_PROGRESS_FD: '3' })).toBeDefined();
  });

  it('sends nothing for work shorter than 300 ms, then JSON lines no oftener than every 100 ms, the last one always', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 1 << 30 }), (steps, total) => {
        const times: number[] = [];
        const sent = written((ch, clock) => {
          steps.forEach((dt, i) => {
            clock.t += dt;
            times.push(clock.t);
            ch.report({ phase: 'import', done: Math.floor(((i + 1) / steps.length) * total), total });
          });
          ch.clear();
        });
        const reports = sent.filter((s) => !s.clear);
        // The delay runs from the first report; the last is done = total, sent once past it whatever the interval.
        const lasted = times.at(-1)! - times[0]!;
        expect(reports.length > 0).toBe(lasted >= 300);
        if (reports.length > 0) {
          expect(reports.at(-1)).toMatchObject({ phase: 'import', done: total, total, fraction: 1 });
          expect(reports.at(-1)!.line).toMatch(/^import +\[█+\] +100% /);
          expect(sent.at(-1)).toEqual({ clear: true });
        } else {
          expect(sent).toEqual([]);
        }
        expect(reports.length).toBeLessThanOrEqual(Math.floor(Math.max(0, lasted - 300) / 100) + 2);
        for (const r of reports) expect(r.fraction).toBe(Math.min(1, r.done! / total));
      }),
      { numRuns: 60 },
    );
  });

  it('survives a descriptor that is not open: progress is only a courtesy', () => {
    const ch = progressChannel({ MLMODEL_PROGRESS_FD: '987654' }, () => 1000)!;
    expect(() => {
      ch.report({ phase: 'export', done: 0, total: 10 });
      ch.report({ phase: 'export', done: 10, total: 10 });
      ch.clear();
    }).not.toThrow();
  });
});

describe('help as a lone batch line', () => {
  const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
  const mlmodel = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, MLMODEL_HOME: join(dir, 'home') } });

  it('prints the REPL’s help for a topic, however it is given', () => {
    const want = topicHelp('deploy')! + '\n';
    for (const args of [['help', 'deploy'], ['-c', 'help deploy'], ['-c', 'mlmodel help DEPLOY;'], ['--implicit-command', '-c', '  help deploy  ']]) {
      const r = mlmodel(args);
      expect([r.status, r.stdout, r.stderr], args.join(' ')).toEqual([0, want, '']);
    }
    expect(mlmodel(['help']).stdout).toMatch(/^Commands:\n/);
  });

  it('answers an unknown topic with a did-you-mean and status 2; help among other statements is a query', () => {
    const r = mlmodel(['-c', 'help deplyo']);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe('mlmodel: no help on deplyo; did you mean help deploy?; try help, or help followed by an action or a stage\n');
    const mixed = mlmodel(['-c', 'mlmodel list', '-c', 'help deploy']);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toContain('[help] is not a command');
  });
});
