import { describe, expect, it } from 'vitest';
import {
  BULK_MAX_BYTES,
  BulkBuilder,
  UpsApi,
  bulkBody,
  bulkPatch,
  bulkPost,
  bulkPut,
  bulkRequest,
  serializeOperation,
  splitBulk,
  patch,
  type BulkOperation,
} from '../../../src/shared/concur/index.ts';
import type { ConcurApi } from '../../../src/shared/concur/api.ts';

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

describe('operations serialized once', () => {
  const ops = Array.from({ length: 10 }, (_, i) =>
    i % 2 === 0
      ? bulkPost(`b${i}`, { userName: `ü${i}`, title: 'é'.repeat(100), note: 'a "quoted" \\ line\n' })
      : bulkPatch(`id-${i}`, patch().replace('title', '名前'.repeat(20)), `b${i}`),
  );

  it('builds the body exactly as JSON.stringify of the request, with its size in bytes', () => {
    for (const batch of [
      ops,
      ops.slice(0, 1),
      ops.map(serializeOperation),
      [...ops.slice(0, 3).map(serializeOperation), ...ops.slice(3)],
    ]) {
      const body = bulkBody(batch);
      expect(body.text).toBe(JSON.stringify(bulkRequest(ops.slice(0, batch.length))));
      expect(body.bytes).toBe(Buffer.byteLength(body.text, 'utf8'));
    }
    const one = serializeOperation(ops[1]!);
    expect(one.json).toBe(JSON.stringify(ops[1]));
    expect(one.bytes).toBe(Buffer.byteLength(one.json, 'utf8'));
    expect(BulkBuilder.operationBytes(one)).toBe(BulkBuilder.operationBytes(ops[1]!));
  });

  it('packs exactly as plain operations, up to the last byte of the limit', () => {
    const serialized = ops.map(serializeOperation);
    const exact = size(ops.slice(0, 3));
    for (const maxBytes of [exact, exact - 1, exact + 1, BULK_MAX_BYTES]) {
      const plain = splitBulk(ops, { maxBytes, maxOperations: 50 });
      const packed = splitBulk(serialized, { maxBytes, maxOperations: 50 });
      expect(packed.map((b) => b.map((s) => s.op))).toEqual(plain);
      for (const b of packed) expect(bulkBody(b).bytes).toBeLessThanOrEqual(maxBytes);
    }
    // A batch may fill the limit to the byte, and one byte less leaves its last operation out.
    const full = splitBulk(serialized, { maxBytes: exact, maxOperations: 50 });
    expect(bulkBody(full[0]!).bytes).toBe(exact);
    expect(full[0]).toHaveLength(3);
    expect(splitBulk(serialized, { maxBytes: exact - 1, maxOperations: 50 })[0]).toHaveLength(2);
    expect(splitBulk(serialized, { maxOperations: 4 }).map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('refuses a serialized operation that alone passes the limit, and takes one that fills it exactly', () => {
    const op = serializeOperation(bulkPost('big', user(1, 2000)));
    const alone = size([op.op]);
    expect(new BulkBuilder<typeof op>({ maxBytes: alone }).add(op)).toEqual([]);
    const builder = new BulkBuilder<typeof op>({ maxBytes: alone - 1 });
    expect(() => builder.add(op)).toThrow(
      expect.objectContaining({
        code: 'PROV_ERR_INPUT',
        details: { bulkId: 'big', bytes: op.bytes, maxBytes: alone - 1 },
      }),
    );
    expect(builder.pending).toBe(0);
  });

  it('submitBulk sends the body text built from the serialized operations, and refuses one over the limits', async () => {
    const sent: { jsonText?: string; json?: unknown }[] = [];
    const api = {
      call: (call: { jsonText?: string; json?: unknown }) => {
        sent.push(call);
        return Promise.resolve({ data: { id: 'prov-1' }, status: 200, correlationId: undefined });
      },
    } as unknown as ConcurApi;
    const ups = new UpsApi(api);
    expect((await ups.submitBulk(ops.map(serializeOperation))).provisionId).toBe('prov-1');
    expect(sent[0]?.jsonText).toBe(JSON.stringify(bulkRequest(ops)));
    expect(sent[0]?.json).toBeUndefined();
    const tooBig = Array.from({ length: 11 }, (_, i) => serializeOperation(bulkPost(`b${i}`, user(i, 40_000))));
    expect(size(tooBig.map((s) => s.op))).toBeGreaterThan(BULK_MAX_BYTES);
    await expect(ups.submitBulk(tooBig)).rejects.toMatchObject({ code: 'PROV_ERR_INTERNAL' });
    expect(sent).toHaveLength(1);
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
