import * as assert from 'node:assert/strict';
import { isRfc3339DateTime } from '../../lib/events/date-time';

describe('date-time format (RFC 3339)', () => {
  it('accepts timestamps with a timezone', () => {
    for (const v of ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.123456Z', '2024-02-29T23:59:60+01:00', '2024-05-01t10:00:00z', '2024-05-01 10:00:00-05:30']) {
      assert.ok(isRfc3339DateTime(v), v);
    }
  });
  it('rejects missing timezones, impossible dates and other shapes', () => {
    for (const v of ['2024-05-01T10:00:00', '2023-02-29T10:00:00Z', '2024-13-01T10:00:00Z', '2024-04-31T10:00:00Z', '2024-05-01T24:00:00Z',
      '2024-05-01T10:60:00Z', '2024-05-01T10:00:00+24:00', '2024-05-01', '1714557600000', '', 'not a date', '2024-05-01T10:00Z']) {
      assert.ok(!isRfc3339DateTime(v), v);
    }
  });
  it('the toISOString() shape (checked without the regex) agrees with the regex on valid and invalid values', () => {
    for (const v of ['2024-05-01T10:00:00.000Z', '2024-02-29T23:59:60.999Z', '1999-12-31T00:00:00.001Z', new Date(0).toISOString(), new Date().toISOString()]) {
      assert.ok(isRfc3339DateTime(v), v);
    }
    for (const v of ['2023-02-29T10:00:00.000Z', '2024-00-10T10:00:00.000Z', '2024-04-31T10:00:00.000Z', '2024-05-01T24:00:00.000Z',
      '2024-05-01T10:60:00.000Z', '2024-05-01T10:00:61.000Z', '2024-05-01T10:00:00.0a0Z', '2024-05-01T10:0x:00.000Z', '2024-05-01T10:00:00.000z0',
      '2024-05-01X10:00:00.000Z', '+02024-05-01T10:00:00.00Z']) {
      assert.ok(!isRfc3339DateTime(v), v);
    }
  });
});
