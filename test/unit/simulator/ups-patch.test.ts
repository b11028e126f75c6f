import { describe, expect, it } from 'vitest';
import { applyExtensionOps, ExtensionPathError, splitPatchOp } from '../../../src/simulator/ups/patch.ts';
import { SimHttpError } from '../../../src/simulator/errors.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const ROLE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
const APPROVER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
const LIMIT = 'urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('splitPatchOp', () => {
  it('routes identity paths, the trailing-colon whole extension and pathless URN keys apart', () => {
    const split = splitPatchOp({
      Operations: [
        { op: 'Replace', path: 'active', value: false },
        { op: 'add', path: `${SPEND}:`, value: { country: 'US' } },
        { op: 'add', value: { nickName: 'J', [APPROVER]: { report: [] }, [ENTERPRISE]: { costCenter: 'X' } } },
        { op: 'remove', path: `${ROLE}:roles[roleName eq "SHD_BUDGET_APPROVER"]` },
      ],
    });
    expect(split.identityOps).toEqual([
      { op: 'replace', path: 'active', value: false },
      { op: 'add', value: { nickName: 'J', [ENTERPRISE]: { costCenter: 'X' } } },
    ]);
    expect(split.touchesEnterprise).toBe(true);
    expect([...split.extensionOps.keys()]).toEqual([SPEND, APPROVER, ROLE]);
    expect(split.extensionOps.get(SPEND)).toEqual([{ op: 'add', attrPath: '', value: { country: 'US' } }]);
    expect(split.extensionOps.get(ROLE)).toEqual([
      { op: 'remove', attrPath: 'roles[roleName eq "SHD_BUDGET_APPROVER"]' },
    ]);
  });

  it('rejects malformed PatchOps with a 400 SCIM error', () => {
    for (const body of [
      {},
      { Operations: [] },
      { Operations: [{ op: 'move', path: 'a' }] },
      { Operations: [{ op: 'remove' }] },
    ]) {
      let caught: unknown;
      try {
        splitPatchOp(body);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SimHttpError);
      expect((caught as SimHttpError).statusCode).toBe(400);
    }
  });
});

describe('applyExtensionOps', () => {
  const stored = {
    country: 'US',
    customData: [
      { id: 'custom1', value: 'a' },
      { id: 'custom3', value: 'CC100' },
    ],
  };

  it('merges a whole-extension add and replaces customData items by id', () => {
    const next = applyExtensionOps(SPEND, stored, [
      { op: 'add', attrPath: '', value: { locale: 'en-US', customData: [{ id: 'custom3', value: 'CC200' }] } },
    ]);
    expect(next).toEqual({
      country: 'US',
      locale: 'en-US',
      customData: [
        { id: 'custom1', value: 'a' },
        { id: 'custom3', value: 'CC200' },
      ],
    });
    expect(stored.customData[1]?.value).toBe('CC100');
  });

  it('replaces a whole extension, and removes it', () => {
    expect(applyExtensionOps(SPEND, stored, [{ op: 'replace', attrPath: '', value: { country: 'DE' } }])).toEqual({
      country: 'DE',
    });
    expect(applyExtensionOps(SPEND, stored, [{ op: 'remove', attrPath: '' }])).toBeUndefined();
  });

  it('removes filtered items and sets filtered sub-attributes', () => {
    const approvers = {
      report: [
        { approver: { value: 'u1' }, primary: true },
        { approver: { value: 'u2' }, primary: false },
      ],
    };
    expect(
      applyExtensionOps(APPROVER, approvers, [{ op: 'remove', attrPath: 'report[approver.value eq "u2"]' }]),
    ).toEqual({
      report: [{ approver: { value: 'u1' }, primary: true }],
    });
    const limits = {
      authorizedApprover: [
        { approvalType: 'report', approvalGroup: 'rg1-rg1_1', approvalLimit: 1 },
        { approvalType: 'request', approvalGroup: 'g' },
      ],
    };
    expect(
      applyExtensionOps(LIMIT, limits, [
        { op: 'remove', attrPath: 'authorizedApprover[approvalType eq "report" and approvalGroup eq "rg1-rg1_1"]' },
      ]),
    ).toEqual({ authorizedApprover: [{ approvalType: 'request', approvalGroup: 'g' }] });
    expect(
      applyExtensionOps(SPEND, stored, [{ op: 'replace', attrPath: 'customData[id eq "custom1"].value', value: 'b' }])
        ?.customData,
    ).toEqual([
      { id: 'custom1', value: 'b' },
      { id: 'custom3', value: 'CC100' },
    ]);
  });

  it('sets attributes and dotted sub-attributes, appending to multi-valued ones on add', () => {
    const next = applyExtensionOps(ROLE, { roles: [{ roleName: 'EXP_USER' }] }, [
      { op: 'add', attrPath: 'roles', value: [{ roleName: 'EXP_APPROVER' }, { roleName: 'EXP_USER' }] },
    ]);
    expect(next).toEqual({ roles: [{ roleName: 'EXP_USER' }, { roleName: 'EXP_APPROVER' }] });
    expect(
      applyExtensionOps(SPEND, undefined, [{ op: 'replace', attrPath: 'biManager.employeeNumber', value: '7' }]),
    ).toEqual({ biManager: { employeeNumber: '7' } });
  });

  it('reports unusable paths as ExtensionPathError with the schemaPath', () => {
    expect(() => applyExtensionOps(SPEND, stored, [{ op: 'remove', attrPath: 'customData[id eq ]' }])).toThrow(
      ExtensionPathError,
    );
    expect(() =>
      applyExtensionOps(SPEND, stored, [
        { op: 'replace', attrPath: 'customData[id eq "nope"]', value: { value: 'x' } },
      ]),
    ).toThrow(/No target/);
  });
});
