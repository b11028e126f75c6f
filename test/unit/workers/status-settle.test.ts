import { describe, expect, it } from 'vitest';
import { verdictFor } from '../../../src/workers/status/settle.ts';
import { statusDelay } from '../../../src/shared/provisions/status-checks.ts';
import { parseBulkId, bulkIdOf } from '../../../src/shared/provisions/entries.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const ok = (name: string, result = 'success') => ({
  name,
  status: { completed: true, success: true, code: '200', result },
});

describe('verdictFor', () => {
  it('is done when every extension is success or no-op, keeping warnings', () => {
    const v = verdictFor({
      status: { completed: true, success: true, code: '200' },
      extensions: [
        ok(SPEND),
        {
          ...ok('urn:ietf:params:scim:schemas:extension:travel:2.0:User', 'no-op'),
          messages: [{ code: 'W', message: 'careful', type: 'warning' }],
        },
      ],
    });
    expect(v).toEqual({ state: 'done', patch: { warnings: ['travel:2.0:User: careful'] } });
  });

  it("fails with every failed extension's code, messages and schemaPath", () => {
    const v = verdictFor({
      status: { completed: true, success: false, code: '207' },
      extensions: [
        ok('urn:ietf:params:scim:schemas:core:2.0:User'),
        {
          name: SPEND,
          status: { completed: true, success: false, code: '400', result: 'error' },
          messages: [
            {
              code: 'INVALID_VALUE',
              message: 'Invalid List Item',
              schemaPath: `${SPEND}:customData[id eq "custom3"].value`,
              type: 'error',
            },
          ],
        },
        {
          name: 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role',
          status: { completed: true, success: false, code: '424', result: 'not-processed' },
        },
      ],
    });
    expect(v.state).toBe('extension_failed');
    expect(v.patch.code).toBe('INVALID_VALUE');
    expect(v.patch.error).toBe(`spend:2.0:User: Invalid List Item [${SPEND}:customData[id eq "custom3"].value]`);
    expect(v.patch.extensions).toEqual([
      {
        name: SPEND,
        code: '400',
        result: 'error',
        messages: [
          {
            code: 'INVALID_VALUE',
            message: 'Invalid List Item',
            schemaPath: `${SPEND}:customData[id eq "custom3"].value`,
            type: 'error',
          },
        ],
      },
      {
        name: 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role',
        code: '424',
        result: 'not-processed',
        messages: [],
      },
    ]);
  });

  it('is timed_out when Concur failed the operation at its own timeout', () => {
    const v = verdictFor({
      status: { completed: true, success: false, code: '408' },
      extensions: [{ name: SPEND, status: { completed: true, success: false, code: '408', result: 'not-processed' } }],
    });
    expect(v.state).toBe('timed_out');
  });
});

describe('status delay and bulk ids', () => {
  it('doubles from the first delay up to the cap', () => {
    expect([0, 1, 2, 3, 10].map((c) => statusDelay(c, 5_000, 30_000))).toEqual([5_000, 10_000, 20_000, 30_000, 30_000]);
  });

  it('maps a bulkId back to its drop and row', () => {
    expect(parseBulkId(bulkIdOf('0123abcd', 42))).toEqual({ dropId: '0123abcd', row: 42 });
    expect(parseBulkId('gen-temp-bulk-id')).toBeUndefined();
  });
});
