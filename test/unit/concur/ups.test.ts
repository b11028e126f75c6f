import { describe, expect, it } from 'vitest';
import {
  BULK_MAX_BYTES,
  BulkBuilder,
  bulkPatch,
  bulkPost,
  bulkPut,
  bulkRequest,
  splitBulk,
  patch,
  type BulkOperation,
} from '../../../src/shared/concur/index.ts';

const user = (i: number, pad = 0): Record<string, unknown> => ({
  userName: `u${i}@example.com`,
  active: true,
  title: 'x'.repeat(pad),
});
const size = (ops: BulkOperation[]): number => Buffer.byteLength(JSON.stringify(bulkRequest(ops)));

describe('BulkBuilder', () => {
  it('closes a batch at 100 operations', () => {
    const builder = new BulkBuilder();
    const closed: BulkOperation[][] = [];
    for (let i = 0; i < 250; i++) closed.push(...builder.add(bulkPost(`b${i}`, user(i))));
    const last = builder.flush();
    expect(closed.map((b) => b.length)).toEqual([100, 100]);
    expect(last).toHaveLength(50);
    expect(builder.flush()).toBeUndefined();
    expect([...closed.flat(), ...(last ?? [])].map((o) => o.bulkId)).toEqual(
      Array.from({ length: 250 }, (_, i) => `b${i}`),
    );
  });

  it('closes a batch before it would pass the byte limit, and every batch fits exactly', () => {
    const batches = splitBulk(Array.from({ length: 30 }, (_, i) => bulkPost(`b${i}`, user(i, 40_000))));
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(size(b)).toBeLessThanOrEqual(BULK_MAX_BYTES);
    // Greedy: adding the next batch's first operation would have crossed the limit.
    for (let i = 0; i + 1 < batches.length; i++)
      expect(size([...batches[i]!, batches[i + 1]![0]!])).toBeGreaterThan(BULK_MAX_BYTES);
    expect(batches.flat()).toHaveLength(30);
  });

  it('honours lower configured limits and counts multi-byte characters as bytes', () => {
    const ops = Array.from({ length: 10 }, (_, i) => bulkPost(`b${i}`, { userName: `ü${i}`, title: 'é'.repeat(100) }));
    const maxBytes = size(ops.slice(0, 3));
    const batches = splitBulk(ops, { maxBytes, maxOperations: 50 });
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(splitBulk(ops, { maxOperations: 4 }).map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('refuses an operation that could never fit', () => {
    const builder = new BulkBuilder({ maxBytes: 1000 });
    expect(() => builder.add(bulkPost('big', user(1, 2000)))).toThrow(
      expect.objectContaining({ code: 'PROV_ERR_INPUT' }),
    );
    expect(builder.pending).toBe(0);
  });
});

describe('bulk operation helpers', () => {
  it('puts the UUID in the PUT path and data, and wraps PATCH in a PatchOp', () => {
    expect(bulkPut('id-1', { userName: 'a' }, 'b1')).toEqual({
      method: 'PUT',
      path: '/Users/id-1',
      bulkId: 'b1',
      data: { userName: 'a', id: 'id-1' },
    });
    expect(bulkPatch('id-2', patch().replace('active', false))).toEqual({
      method: 'PATCH',
      path: '/Users/id-2',
      data: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      },
    });
  });
});
