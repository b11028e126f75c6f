/** Schema URNs UPS reports on, in the order the status endpoint lists them (§3.5). */
export const CORE_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SPEND_USER_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
export const SPEND_ROLE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
export const SPEND_APPROVER_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
export const SPEND_APPROVER_LIMIT_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit';
export const SPEND_DELEGATE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate';
export const SPEND_USER_PREFERENCE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference';
export const SPEND_WORKFLOW_PREFERENCE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:WorkflowPreference';
export const SPEND_INVOICE_PREFERENCE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:InvoicePreference';
export const PAYROLL_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll';
/** The guide's table also names a spend Payroll URN; status captures use the enterprise one. */
export const SPEND_PAYROLL_ALIAS_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Payroll';
export const TRAVEL_USER_URN = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';

export const PROVISION_STATUS_URN = 'urn:ietf:params:scim:schemas:extension:concur:2.0:Provision:Status';
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const SPEND_READ_URN = 'urn:com.concur.spend.user.model.scim.ScimResource';

/** Extensions applied asynchronously by UPS (everything except core and enterprise). */
export const ASYNC_EXTENSION_URNS = [
  SPEND_USER_URN,
  SPEND_ROLE_URN,
  SPEND_APPROVER_URN,
  SPEND_APPROVER_LIMIT_URN,
  SPEND_DELEGATE_URN,
  SPEND_USER_PREFERENCE_URN,
  SPEND_WORKFLOW_PREFERENCE_URN,
  SPEND_INVOICE_PREFERENCE_URN,
  PAYROLL_URN,
  TRAVEL_USER_URN,
] as const;

/** Every URN a status operation reports (sent or not). */
export const REPORTED_URNS = [CORE_URN, ENTERPRISE_URN, ...ASYNC_EXTENSION_URNS] as const;

/** Spend extensions that need a spend User extension to exist (the "foundation" rule, §3.2). */
export const SPEND_DEPENDENT_URNS: readonly string[] = [
  SPEND_ROLE_URN,
  SPEND_APPROVER_URN,
  SPEND_APPROVER_LIMIT_URN,
  SPEND_DELEGATE_URN,
  SPEND_USER_PREFERENCE_URN,
  SPEND_WORKFLOW_PREFERENCE_URN,
  SPEND_INVOICE_PREFERENCE_URN,
];

/** Spend v4.1 read-back carries these; Travel v4 read-back carries only the travel one. */
export const SPEND_READ_URNS: readonly string[] = [
  SPEND_USER_URN,
  SPEND_ROLE_URN,
  SPEND_APPROVER_URN,
  SPEND_APPROVER_LIMIT_URN,
  SPEND_DELEGATE_URN,
  SPEND_USER_PREFERENCE_URN,
  SPEND_WORKFLOW_PREFERENCE_URN,
  SPEND_INVOICE_PREFERENCE_URN,
  PAYROLL_URN,
];

const ASYNC_SET: ReadonlySet<string> = new Set<string>(ASYNC_EXTENSION_URNS);

/**
 * The async extension a key or PATCH path names, or undefined when it is an identity attribute.
 * Matching is case-insensitive (SCIM URNs are) and maps the spend Payroll alias to the enterprise one.
 * Returns the URN and the attribute path after it ('' for the whole extension).
 */
export function splitExtensionPath(path: string): { urn: string; attrPath: string } | undefined {
  const lower = path.toLowerCase();
  const candidates: string[] = [...ASYNC_EXTENSION_URNS, SPEND_PAYROLL_ALIAS_URN];
  for (const urn of candidates) {
    const u = urn.toLowerCase();
    if (lower === u) return { urn: canonical(urn), attrPath: '' };
    if (lower.startsWith(`${u}:`)) return { urn: canonical(urn), attrPath: path.slice(urn.length + 1) };
  }
  return undefined;
}

/** The canonical async-extension URN for a top-level resource key, or undefined. */
export function asyncExtensionUrn(key: string): string | undefined {
  const hit = splitExtensionPath(key);
  return hit && hit.attrPath === '' ? hit.urn : undefined;
}

export function isAsyncExtensionUrn(urn: string): boolean {
  return ASYNC_SET.has(urn);
}

function canonical(urn: string): string {
  return urn === SPEND_PAYROLL_ALIAS_URN ? PAYROLL_URN : urn;
}
