import type { ConcurMessage } from '../errors.ts';
import type { ExtensionOp, PatchOperation } from './patch.ts';
import { PROVISION_STATUS_URN, REPORTED_URNS } from './urns.ts';

export type ExtensionResult = 'success' | 'no-op' | 'error' | 'not-processed';
export type OperationState = 'pending' | 'success' | 'failed';

export interface ExtensionOutcome {
  result: ExtensionResult;
  code: string;
  messages?: ConcurMessage[];
}

/** What one operation asks for; identity is applied first, then `extensionOps` per URN. */
export type OperationWork =
  | { kind: 'create'; identity: Record<string, unknown>; touchesEnterprise: boolean }
  | { kind: 'replace'; userId: string; identity: Record<string, unknown>; touchesEnterprise: boolean }
  | { kind: 'patch'; userId: string; identityOps: PatchOperation[]; touchesEnterprise: boolean }
  | { kind: 'delete'; userId: string }
  /** The operation was malformed (bad PatchOp): it fails at processing with this error. */
  | { kind: 'invalid'; userId: string | undefined; code: string; messages: ConcurMessage[] };

export interface OperationRecord {
  id: string;
  bulkId: string | undefined;
  userId: string | undefined;
  work: OperationWork;
  extensionOps: Map<string, ExtensionOp[]>;
  identityDone: boolean;
  state: OperationState;
  code: string | undefined;
  outcomes: Map<string, ExtensionOutcome>;
}

export interface ProvisionRecord {
  id: string;
  type: 'Bulk' | 'User';
  companyId: string;
  correlationId: string;
  location: string;
  createdAt: number;
  lastModifiedAt: number;
  completedAt: number | undefined;
  operations: OperationRecord[];
}

/** Concur's provisioning timestamp format: `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`. */
export function formatProvisionTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function countOperations(p: ProvisionRecord): {
  total: number;
  success: number;
  failed: number;
  pending: number;
} {
  const counts = { total: p.operations.length, success: 0, failed: 0, pending: 0 };
  for (const op of p.operations) counts[op.state] += 1;
  return counts;
}

/** The summary body (no operations), as the 202 of /Bulk and the plain status GET return it. */
export function renderSummary(p: ProvisionRecord): Record<string, unknown> {
  const counts = countOperations(p);
  const completed = p.completedAt !== undefined;
  const meta: Record<string, unknown> = {
    location: p.location,
    companyId: p.companyId,
    created: formatProvisionTime(p.createdAt),
    lastModified: formatProvisionTime(p.lastModifiedAt),
  };
  if (p.completedAt !== undefined) meta.completed = formatProvisionTime(p.completedAt);
  meta.provisionType = p.type;
  meta.resourceType = 'ProvisionRequest';
  meta.correlationId = p.correlationId;
  return {
    schemas: [PROVISION_STATUS_URN],
    id: p.id,
    status: { completed, success: completed ? counts.failed === 0 : null },
    operationsCount: counts,
    meta,
  };
}

export interface DetailQuery {
  startIndex: number;
  count: number;
  state: OperationState | undefined;
}

/** The detailed body (`attributes=operations`): a page of operations, optionally of one state. */
export function renderDetail(p: ProvisionRecord, query: DetailQuery): Record<string, unknown> {
  const { meta, ...summary } = renderSummary(p);
  const matching = query.state === undefined ? p.operations : p.operations.filter((op) => op.state === query.state);
  const page = matching.slice(query.startIndex - 1, query.startIndex - 1 + query.count);
  return {
    ...summary,
    totalResults: matching.length,
    startIndex: query.startIndex,
    itemsPerPage: page.length,
    meta,
    operations: page.map(renderOperation),
  };
}

export function renderOperation(op: OperationRecord): Record<string, unknown> {
  const completed = op.state !== 'pending';
  const status: Record<string, unknown> = { completed, success: completed ? op.state === 'success' : null };
  if (op.code !== undefined) status.code = op.code;
  const out: Record<string, unknown> = { id: op.id };
  if (op.bulkId !== undefined) out.bulkId = op.bulkId;
  out.status = status;
  out.resource = op.userId === undefined ? { type: 'User' } : { id: op.userId, type: 'User' };
  // Extensions not processed yet are left out until they have an outcome.
  out.extensions = REPORTED_URNS.flatMap((urn) => {
    const outcome = op.outcomes.get(urn);
    return outcome ? [renderExtension(urn, outcome)] : [];
  });
  return out;
}

function renderExtension(name: string, o: ExtensionOutcome): Record<string, unknown> {
  const ext: Record<string, unknown> = {
    name,
    status: {
      completed: true,
      success: o.result === 'success' || o.result === 'no-op',
      code: o.code,
      result: o.result,
    },
  };
  if (o.messages && o.messages.length > 0) ext.messages = o.messages;
  return ext;
}
