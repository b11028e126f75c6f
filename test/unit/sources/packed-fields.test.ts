import { describe, expect, it } from 'vitest';
import { FieldPacker, unpackFields } from '../../../src/producers/packed-fields.ts';

describe('packed ledger fields', () => {
  it('give back each field as its UTF-8 bytes, empty ones included, across growth and batches', () => {
    const packer = new FieldPacker();
    const fields = ['1', 'pending', '', '{"a":"Zoë 😀 ü"}', 'E1', 'zoë@example.com', ''];
    const all = [...Array.from({ length: 800 }, () => fields).flat(), 'x'.repeat(600_000), 'last'];
    for (const f of all) packer.push(f);
    const first = unpackFields(packer.take());
    expect(first.map((b) => b.toString('utf8'))).toEqual(all);
    packer.push('after');
    expect(unpackFields(packer.take()).map((b) => b.toString('utf8'))).toEqual(['after']);
    expect(unpackFields(packer.take())).toEqual([]);
  });
});
