/* eslint-disable @typescript-eslint/no-explicit-any -- loose test documents */
import { describe, expect, it } from 'vitest';
import { SimHttpError } from '../../../src/simulator/errors.ts';
import { applyPatch } from '../../../src/simulator/identity/patch.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

function doc(): Record<string, any> {
  return {
    userName: 'a@x.com',
    active: true,
    name: { givenName: 'A', familyName: 'B' },
    emails: [{ value: 'a@x.com', type: 'work' }],
    [ENT]: { employeeNumber: '1', department: 'D' },
  };
}
const patch = (d: Record<string, unknown>, ...Operations: unknown[]): void =>
  applyPatch(d, { schemas: [PATCH], Operations });

describe('applyPatch', () => {
  it('replaces simple, sub-attribute and extension paths (case-insensitive names)', () => {
    const d = doc();
    patch(
      d,
      { op: 'Replace', path: 'ACTIVE', value: false },
      { op: 'replace', path: 'name.givenName', value: 'Z' },
      { op: 'add', path: `${ENT}:manager.value`, value: 'm-1' },
    );
    expect(d.active).toBe(false);
    expect(d.name).toEqual({ givenName: 'Z', familyName: 'B' });
    expect(d[ENT].manager).toEqual({ value: 'm-1' });
  });

  it('sets a filtered email from a string value and creates it when absent', () => {
    const d = doc();
    patch(
      d,
      { op: 'replace', path: 'emails[type eq "work"]', value: 'new@x.com' },
      { op: 'add', path: 'emails[type eq "home"].value', value: 'h@x.com' },
    );
    expect(d.emails).toEqual([
      { value: 'new@x.com', type: 'work' },
      { type: 'home', value: 'h@x.com' },
    ]);
  });

  it('removes filtered items and extension attributes; pathless ops merge', () => {
    const d = doc();
    patch(
      d,
      { op: 'remove', path: 'emails[type eq "work"]' },
      { op: 'remove', path: `${ENT}:department` },
      { op: 'replace', value: { nickName: 'N', [ENT]: { costCenter: 'C9' } } },
    );
    expect(d.emails).toEqual([]);
    expect(d[ENT]).toEqual({ employeeNumber: '1', costCenter: 'C9' });
    expect(d.nickName).toBe('N');
  });

  it('rejects bad bodies and paths with SCIM 400s', () => {
    const cases: [unknown, string][] = [
      [{ Operations: [] }, 'invalidSyntax'],
      [{ schemas: [PATCH], Operations: [{ op: 'move', path: 'x' }] }, 'invalidSyntax'],
      [{ schemas: [PATCH], Operations: [{ op: 'remove' }] }, 'noTarget'],
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'nope', value: 1 }] }, 'invalidPath'],
      [
        {
          schemas: [PATCH],
          Operations: [
            { op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:User:country', value: 'US' },
          ],
        },
        'invalidPath',
      ],
      [{ schemas: [PATCH], Operations: [{ op: 'replace', path: 'id', value: 'x' }] }, 'mutability'],
      [
        {
          schemas: [PATCH],
          Operations: [{ op: 'replace', path: 'emails[type eq "home" or type eq "other"]', value: 'x' }],
        },
        'noTarget',
      ],
    ];
    for (const [body, scimType] of cases) {
      let caught: unknown;
      try {
        applyPatch(doc(), body);
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(body)).toBeInstanceOf(SimHttpError);
      expect((caught as SimHttpError).statusCode).toBe(400);
      expect(((caught as SimHttpError).body as { scimType: string }).scimType).toBe(scimType);
    }
  });
});
