import { describe, expect, it } from 'vitest';
import { bar, formatBytes, formatDuration, lineProgress, ProgressMeter, progressLine } from '../../../console/progress.js';

const MiB = 1024 * 1024;

describe('progress', () => {
  it('measures the rate over the last seconds and the time left', () => {
    let t = 0;
    const m = new ProgressMeter(() => t);
    expect(m.update({ phase: 'import', done: 0, total: 10 * MiB })).toMatchObject({ rate: null, eta: null, fraction: 0 });
    t = 1000;
    expect(m.update({ phase: 'import', done: 2 * MiB, total: 10 * MiB })).toMatchObject({ rate: 2 * MiB, eta: 4, fraction: 0.2, elapsed: 1 });
    // The window forgets the start: a slower stretch shows as a slower rate.
    t = 5000;
    m.update({ phase: 'import', done: 3 * MiB, total: 10 * MiB });
    t = 6000;
    const v = m.update({ phase: 'import', done: 4 * MiB, total: 10 * MiB });
    expect(v.rate).toBe(MiB);
    expect(v.eta).toBe(6);
    // Without a total there is no ETA and no fraction.
    expect(m.update({ phase: 'export', done: 1, total: null })).toMatchObject({ eta: null, fraction: null });
  });

  it('formats sizes, durations and a bar', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(64 * MiB)).toBe('64.0 MiB');
    expect(formatBytes(300 * MiB)).toBe('300 MiB');
    expect(formatDuration(5.2)).toBe('6s');
    expect(formatDuration(65)).toBe('1m05s');
    expect(formatDuration(3725)).toBe('1h02m');
    expect(bar(0.5, 10)).toBe('█████░░░░░');
    expect(bar(2, 4)).toBe('████');
  });

  it('draws one line within the width', () => {
    const view = { phase: 'deploy', done: MiB, total: 4 * MiB, rate: MiB, eta: 3, fraction: 0.25, elapsed: 1 };
    const line = progressLine(view, 80);
    expect(line).toMatch(/^deploy {2}\[█+░+\] {2} 25% {2}1\.00 MiB \/ 4\.00 MiB {2}1\.00 MiB\/s {2}ETA 3s$/);
    expect(line.length).toBeLessThanOrEqual(80);
    expect(progressLine(view, 30).length).toBeLessThanOrEqual(30);
  });

  it('rewrites one line on a terminal, not too often, and wipes it when done', () => {
    let t = 0;
    const out: string[] = [];
    const p = lineProgress({ write: (s: string) => out.push(s), columns: 60 }, { now: () => t, delayMs: 300, intervalMs: 100 });
    p.report({ phase: 'import', done: 0, total: 100 });
    t = 200;
    p.report({ phase: 'import', done: 10, total: 100 });
    expect(out).toEqual([]); // quick work draws nothing
    t = 400;
    p.report({ phase: 'import', done: 40, total: 100 });
    t = 450;
    p.report({ phase: 'import', done: 45, total: 100 });
    t = 520;
    p.report({ phase: 'import', done: 52, total: 100 });
    expect(out).toHaveLength(2);
    for (const s of out) {
      expect(s.startsWith('\r')).toBe(true);
      expect(s.endsWith('\x1b[K')).toBe(true);
      expect(s).not.toContain('\n');
      expect(s.length - 4).toBeLessThanOrEqual(59);
    }
    expect(out[1]).toContain(' 52%');
    p.clear();
    expect(out[2]).toBe('\r\x1b[K');
    p.clear();
    expect(out).toHaveLength(3);
  });
});
