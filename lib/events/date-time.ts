// JSON Schema's "date-time" format (RFC 3339 section 5.6, timezone required) for ajv. It is the one
// format our schemas use, so it is defined here instead of pulling in ajv-formats as a dependency
// (node-red-dev's package check allows six runtime dependencies).
import type Ajv from 'ajv';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 && leap ? 29 : DAYS[month - 1];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}

/** Two ASCII digits at i as a number, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The shape Date#toISOString() writes (YYYY-MM-DDTHH:MM:SS.sssZ), which is what every normalized
 * event carries twice: checked by character codes, as the regex below costs ~1 µs a call.
 * undefined when the value has another shape (the regex decides then).
 */
function isoStringShape(v: string): boolean | undefined {
  if (v.length !== 24 || v.charCodeAt(23) !== 90 /* Z */ || v.charCodeAt(10) !== 84 /* T */) return undefined;
  if (v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46) return undefined;
  const hi = two(v, 0);
  const lo = two(v, 2);
  const month = two(v, 5);
  const day = two(v, 8);
  const hour = two(v, 11);
  const minute = two(v, 14);
  const second = two(v, 17);
  const ms = two(v, 20) >= 0 && two(v, 21) >= 0;
  if (hi < 0 || lo < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || !ms) return undefined;
  return validDate(hi * 100 + lo, month, day) && hour <= 23 && minute <= 59 && second <= 60;
}

/** True for an RFC 3339 date-time with a timezone and valid calendar and clock fields (leap second allowed). */
export function isRfc3339DateTime(value: string): boolean {
  const fast = isoStringShape(value);
  if (fast !== undefined) return fast;
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (!validDate(year, month, day)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  return m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
}

export function addDateTimeFormat(ajv: Ajv): Ajv {
  return ajv.addFormat('date-time', { type: 'string', validate: isRfc3339DateTime });
}
