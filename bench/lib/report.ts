import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchCache } from './cache.js';

/** One line of a side-by-side table: our figure, the peer's (or floor's) from the same run, and their ratio. */
export interface Row {
  readonly what: string;
  readonly ours: number | null;
  /** The peer's or floor's figure; null when it was not measured; a string when the peer cannot do it. */
  readonly peer: number | string | null;
  readonly unit: string;
  /** true when a bigger figure is better (rates); false for times and sizes. */
  readonly higherIsBetter: boolean;
  readonly note?: string;
}

export function fmt(n: number | null | undefined, digits?: number): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : Math.abs(n) >= 1 ? 2 : 3);
  return n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** How many times better ours is: peer/ours for times, ours/peer for rates (>1: ours wins). */
export function advantage(r: Row): number | null {
  if (r.ours === null || typeof r.peer !== 'number' || r.ours <= 0 || r.peer <= 0) return null;
  return r.higherIsBetter ? r.ours / r.peer : r.peer / r.ours;
}

/** Prints a table: what, ours, peer/floor, ratio (ours ÷ peer) and who is ahead by how much. */
export function printTable(title: string, peerName: string, rows: readonly Row[]): string {
  const head = ['what', 'unit', 'mlmodel', peerName, 'ours/peer', 'ahead'];
  const body = rows.map((r) => {
    const ratio = r.ours !== null && typeof r.peer === 'number' && r.peer > 0 ? r.ours / r.peer : null;
    const adv = advantage(r);
    return [
      r.what,
      r.unit,
      fmt(r.ours),
      typeof r.peer === 'string' ? r.peer : fmt(r.peer),
      ratio === null ? '—' : `${fmt(ratio, ratio >= 100 ? 0 : 2)}×`,
      adv === null ? (r.note ?? '') : `${adv >= 1 ? 'ours' : 'peer'} ${fmt(adv >= 1 ? adv : 1 / adv, 1)}×${r.note ? ` (${r.note})` : ''}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const text = [title, line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
  console.log(text + '\n');
  return text;
}

/** p-th percentile (nearest rank) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[k]!;
}

export function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Keeps a bench's figures as JSON (for docs/performance.md), under the bench cache. */
export function saveResults(name: string, data: Record<string, unknown>): string {
  const dir = benchCache('results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ bench: name, at: new Date().toISOString(), machine: machine(), ...data }, null, 2) + '\n');
  return file;
}

export function goal(label: string, met: boolean, detail: string): string {
  const text = `goal ${label}: ${met ? 'met' : 'MISSED'} — ${detail}`;
  console.log(text);
  return text;
}
