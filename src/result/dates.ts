/**
 * IRIS shows and compares times as `yyyyMMddHHmmss` numbers (20191001145628)
 * and displays them as `2019/10/01 14:56:28`. Both are in the process's local
 * time zone (set TZ to choose it), as a terminal user reads a clock.
 */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2019/11/19 00:11:22` */
export function formatDisplay(d: Date): string {
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 20191119001122 */
export function toStamp(d: Date): number {
  return Number(
    `${pad(d.getFullYear(), 4)}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`,
  );
}

/**
 * Reads a number as a stamp: 14 digits are yyyyMMddHHmmss; 8, 10 and 12
 * digits are a prefix (yyyyMMdd, …HH, …HHmm) padded with zeros, so IRIS's
 * `saved_date > 201807000000` means "after the start of July 2018". Returns
 * undefined for anything else.
 */
export function stampDigits(n: number): number | undefined {
  if (!Number.isSafeInteger(n) || n < 0) return undefined;
  const digits = String(n);
  if (![8, 10, 12, 14].includes(digits.length)) return undefined;
  return Number(digits.padEnd(14, '0'));
}

/**
 * The earliest instant whose stamp is ≥ `stamp` — stamps need not be valid
 * dates (`20180700000000` has day 00), so each field is rounded up to the
 * next valid value, carrying into the fields above it.
 */
export function ceilingOfStamp(stamp: number): Date {
  const s = String(stamp).padStart(14, '0');
  let [year, month, day, hour, minute, second] = [
    Number(s.slice(0, 4)),
    Number(s.slice(4, 6)),
    Number(s.slice(6, 8)),
    Number(s.slice(8, 10)),
    Number(s.slice(10, 12)),
    Number(s.slice(12, 14)),
  ] as [number, number, number, number, number, number];
  // Fields are fixed from the top down; an out-of-range field resets everything below it.
  if (month === 0) [month, day, hour, minute, second] = [1, 1, 0, 0, 0];
  if (month > 12) [year, month, day, hour, minute, second] = [year + 1, 1, 1, 0, 0, 0];
  if (day === 0) [day, hour, minute, second] = [1, 0, 0, 0];
  if (day > daysIn(year, month)) return ceilingOfStamp(Number(`${pad(year, 4)}${pad(month + 1)}01000000`));
  if (hour > 23) return new Date(year, month - 1, day + 1, 0, 0, 0);
  if (minute > 59) return new Date(year, month - 1, day, hour + 1, 0, 0);
  if (second > 59) return new Date(year, month - 1, day, hour, minute + 1, 0);
  return new Date(year, month - 1, day, hour, minute, second);
}

function daysIn(year: number, month: number): number {
  return new Date(year, month, 0).getDate();
}
