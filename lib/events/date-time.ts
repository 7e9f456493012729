// JSON Schema's "date-time" format (RFC 3339 section 5.6, timezone required) for ajv. It is the one
// format our schemas use, so it is defined here instead of pulling in ajv-formats as a dependency
// (node-red-dev's package check allows six runtime dependencies).
import type Ajv from 'ajv';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True for an RFC 3339 date-time with a timezone and valid calendar and clock fields (leap second allowed). */
export function isRfc3339DateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 && leap ? 29 : DAYS[month - 1];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  return m[8] === undefined || (Number(m[8]) <= 23 && Number(m[9]) <= 59);
}

export function addDateTimeFormat(ajv: Ajv): Ajv {
  return ajv.addFormat('date-time', { type: 'string', validate: isRfc3339DateTime });
}
