import { describe, expect, it } from 'vitest';
import { SimHttpError } from '../../../src/simulator/errors.ts';
import { MAX_BULK_BYTES, parseBulkRequest } from '../../../src/simulator/ups/bulk.ts';

const post = (bulkId?: string): Record<string, unknown> => ({
  method: 'POST',
  path: '/Users',
  ...(bulkId ? { bulkId } : {}),
  data: { userName: 'a@b.c' },
});

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof SimHttpError ? err.statusCode : -1;
  }
  return undefined;
}

describe('parseBulkRequest', () => {
  it('parses every method and pulls the uuid out of the path', () => {
    const ops = parseBulkRequest(
      {
        Operations: [
          post('b1'),
          { method: 'patch', path: '/Users/u-1/', data: { Operations: [] } },
          { method: 'PUT', path: '/Users/u-2', data: { id: 'u-2' } },
          { method: 'DELETE', path: '/Users/u-3' },
        ],
      },
      100,
    );
    expect(ops.map((o) => [o.method, o.userId, o.bulkId])).toEqual([
      ['POST', undefined, 'b1'],
      ['PATCH', 'u-1', undefined],
      ['PUT', 'u-2', undefined],
      ['DELETE', 'u-3', undefined],
    ]);
  });

  it('answers 413 over 400 KB and 400 over 100 operations', () => {
    expect(statusOf(() => parseBulkRequest({ Operations: [post('b')] }, MAX_BULK_BYTES + 1))).toBe(413);
    expect(
      statusOf(() => parseBulkRequest({ Operations: Array.from({ length: 101 }, (_, i) => post(`b${i}`)) }, 100)),
    ).toBe(400);
    expect(
      statusOf(() =>
        parseBulkRequest({ Operations: Array.from({ length: 100 }, (_, i) => post(`b${i}`)) }, MAX_BULK_BYTES),
      ),
    ).toBeUndefined();
  });

  it('requires bulkId for POST, unique bulkIds, a known method and a matching path', () => {
    expect(statusOf(() => parseBulkRequest({ Operations: [post()] }, 1))).toBe(400);
    expect(statusOf(() => parseBulkRequest({ Operations: [post('x'), post('x')] }, 1))).toBe(400);
    expect(statusOf(() => parseBulkRequest({ Operations: [{ ...post('x'), method: 'GET' }] }, 1))).toBe(400);
    expect(statusOf(() => parseBulkRequest({ Operations: [{ ...post('x'), path: '/Groups' }] }, 1))).toBe(400);
    expect(statusOf(() => parseBulkRequest({ Operations: [{ method: 'PATCH', path: '/Users', data: {} }] }, 1))).toBe(
      400,
    );
    expect(
      statusOf(() => parseBulkRequest({ Operations: [{ method: 'PUT', path: '/Users/a', data: { id: 'b' } }] }, 1)),
    ).toBe(400);
  });
});
