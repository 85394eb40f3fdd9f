import { formatDisplay } from '../../src/result/dates.js';
import type { Cell, Column } from '../../src/result/table.js';

/** A cell as a person reads it: times as `2019/11/19 00:11:22`, structures as JSON, no value as empty. */
export function displayCell(value: Cell, column: Column): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return formatDisplay(value);
  if (column.type === 'JSON' || typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A cell for machines: times as ISO 8601 with the local offset. */
export function machineCell(value: Cell): Cell {
  if (value instanceof Date) return isoLocal(value);
  return value ?? null;
}

function isoLocal(d: Date): string {
  const pad = (n: number) => String(Math.trunc(Math.abs(n))).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}
