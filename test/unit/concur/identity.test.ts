import { describe, expect, it } from 'vitest';
import { ENTERPRISE_URN, filterBatches, patch } from '../../../src/shared/concur/index.ts';

describe('filterBatches', () => {
  it('joins values with or, escapes quotes and backslashes, and splits by count', () => {
    const batches = filterBatches('userName', ['a@x.com', 'say "hi"@x.com', 'back\\slash'], 2, 10_000);
    expect(batches.map((b) => b.filter)).toEqual([
      'userName eq "a@x.com" or userName eq "say \\"hi\\"@x.com"',
      'userName eq "back\\\\slash"',
    ]);
    expect(batches.map((b) => b.values)).toEqual([['a@x.com', 'say "hi"@x.com'], ['back\\slash']]);
  });

  it('uses the enterprise URN for employeeNumber and keeps each filter under the length limit', () => {
    const values = Array.from({ length: 50 }, (_, i) => `E${String(i).padStart(5, '0')}`);
    const batches = filterBatches('employeeNumber', values, 100, 400);
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      expect(b.filter.length).toBeLessThanOrEqual(400);
      expect(b.filter.startsWith(`${ENTERPRISE_URN}:employeeNumber eq "`)).toBe(true);
    }
    expect(batches.flatMap((b) => b.values)).toEqual(values);
  });
});

describe('PatchBuilder', () => {
  it('builds a PatchOp with pathless and path operations in order', () => {
    const body = patch()
      .replace('active', false)
      .add(undefined, { nickName: 'J' })
      .remove('emails[type eq "home"]')
      .build();
    expect(body).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'active', value: false },
        { op: 'add', value: { nickName: 'J' } },
        { op: 'remove', path: 'emails[type eq "home"]' },
      ],
    });
  });
});
