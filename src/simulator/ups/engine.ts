import { randomUUID } from 'node:crypto';
import type { ProvisionStore, SimContext, StoredUser } from '../context.ts';
import { CONCUR_ERROR_URN, SimHttpError, type ConcurMessage } from '../errors.ts';
import { parseBulkRequest, type BulkOperationInput } from './bulk.ts';
import { applyExtensionOps, ExtensionPathError, identityPatchBody, splitPatchOp, type ExtensionOp } from './patch.ts';
import {
  renderDetail,
  renderSummary,
  type ExtensionOutcome,
  type OperationRecord,
  type OperationWork,
  type ProvisionRecord,
} from './status.ts';
import {
  ASYNC_EXTENSION_URNS,
  CORE_URN,
  ENTERPRISE_URN,
  REPORTED_URNS,
  SPEND_DEPENDENT_URNS,
  SPEND_USER_URN,
  asyncExtensionUrn,
} from './urns.ts';
import { extensionErrorCode, validateExtension, type ValidationEnv } from './validate.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Operations created through `/Users` carry this bulkId in their status (documented example). */
export const SINGLE_USER_BULK_ID = 'gen-temp-bulk-id';
const SWEEP_INTERVAL_MS = 250;
/** The HTTP-ish code of an operation (and its unprocessed extensions) that hit the provision timeout. */
const TIMEOUT_CODE = '408';
/** The code of an extension skipped because something it depends on failed. */
const NOT_PROCESSED_CODE = '424';

export interface UserProvisionResult {
  user: StoredUser;
  provision: ProvisionRecord;
}

/**
 * The UPS engine: accepts `/Users` and `/Bulk` submissions, applies them asynchronously on real timers
 * (after `extensionDelayMs`), keeps per-operation, per-extension outcomes, fails requests still pending
 * past `provisionTimeoutMs` and forgets them after `statusRetentionMs` (both on the simulated clock,
 * checked by a sweeper and on every read), and publishes `provisionCompleted` through the event hub.
 */
export class UpsEngine implements ProvisionStore {
  private readonly provisions = new Map<string, ProvisionRecord>();
  private readonly pending = new Set<string>();
  /** Pending provisions that have a processing timer. */
  private readonly scheduled = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: SimContext) {}

  statusUrl(id: string): string {
    return `${this.ctx.baseUrl}/profile/v4/provisions/${id}/status`;
  }

  /** POST /Users: identity now (errors propagate as HTTP errors), extensions later. */
  createUser(body: unknown, companyId: string, correlationId: string): UserProvisionResult {
    const { identity, extensionOps, touchesEnterprise } = splitResource(body);
    const user = this.ctx.users.create(identity, companyId);
    const provision = this.submitSingle(
      user,
      extensionOps,
      { kind: 'create', identity, touchesEnterprise },
      companyId,
      correlationId,
    );
    return { user, provision };
  }

  /** PUT /Users/{id}: full identity replace now; sent extensions replace the stored ones later. */
  replaceUser(id: string, body: unknown, companyId: string, correlationId: string): UserProvisionResult {
    const { identity, extensionOps, touchesEnterprise } = splitResource(body);
    const user = this.ctx.users.replace(id, identity, companyId);
    const provision = this.submitSingle(
      user,
      extensionOps,
      { kind: 'replace', userId: id, identity, touchesEnterprise },
      companyId,
      correlationId,
    );
    return { user, provision };
  }

  /** PATCH /Users/{id}: identity operations now, extension operations later. */
  patchUser(id: string, body: unknown, companyId: string, correlationId: string): UserProvisionResult {
    const split = splitPatchOp(body);
    const user =
      split.identityOps.length > 0
        ? this.ctx.users.patch(id, identityPatchBody(split.identityOps), companyId)
        : this.ctx.users.get(id, companyId);
    const work: OperationWork = {
      kind: 'patch',
      userId: id,
      identityOps: split.identityOps,
      touchesEnterprise: split.touchesEnterprise,
    };
    const provision = this.submitSingle(user, split.extensionOps, work, companyId, correlationId);
    return { user, provision };
  }

  deleteUser(id: string, companyId: string): void {
    this.ctx.users.remove(id, companyId);
  }

  /** POST /Bulk: validates the whole request (nothing applied on error), then queues it. */
  submitBulk(body: unknown, sizeBytes: number, companyId: string, correlationId: string): ProvisionRecord {
    const inputs = parseBulkRequest(body, sizeBytes);
    const operations = inputs.map((input, i) => bulkOperation(input, String(i + 1)));
    const provision = this.newProvision('Bulk', companyId, correlationId, operations);
    this.schedule(provision);
    return provision;
  }

  /** The provision if it exists, belongs to the company and is still retained. */
  find(id: string, companyId: string): ProvisionRecord | undefined {
    const p = this.provisions.get(id);
    if (!p) return undefined;
    const now = this.ctx.clock.now();
    if (this.expireIfOld(p, now)) return undefined;
    this.timeoutIfLate(p, now);
    return p.companyId === companyId ? p : undefined;
  }

  list(): unknown[] {
    this.sweep();
    return [...this.provisions.values()].map((p) =>
      renderDetail(p, { startIndex: 1, count: Math.max(1, p.operations.length), state: undefined }),
    );
  }

  reset(): void {
    this.clearTimers();
    this.provisions.clear();
    this.pending.clear();
    this.scheduled.clear();
  }

  async close(): Promise<void> {
    this.clearTimers();
  }

  summary(p: ProvisionRecord): Record<string, unknown> {
    return renderSummary(p);
  }

  private submitSingle(
    user: StoredUser,
    extensionOps: Map<string, ExtensionOp[]>,
    work: OperationWork,
    companyId: string,
    correlationId: string,
  ): ProvisionRecord {
    const op = newOperation('1', SINGLE_USER_BULK_ID, work, extensionOps);
    op.userId = user.resource.id;
    recordIdentitySuccess(op);
    const provision = this.newProvision('User', companyId, correlationId, [op]);
    this.schedule(provision);
    return provision;
  }

  private newProvision(
    type: 'Bulk' | 'User',
    companyId: string,
    correlationId: string,
    operations: OperationRecord[],
  ): ProvisionRecord {
    const id = randomUUID();
    const now = this.ctx.clock.now();
    const p: ProvisionRecord = {
      id,
      type,
      companyId,
      correlationId,
      location: this.statusUrl(id),
      createdAt: now,
      lastModifiedAt: now,
      completedAt: undefined,
      operations,
    };
    this.provisions.set(id, p);
    this.pending.add(id);
    this.startSweeper();
    return p;
  }

  private schedule(p: ProvisionRecord): void {
    // With processing switched off the request stays pending; the sweeper schedules it once the
    // knob is switched back on (or the timeout fails it first).
    if (!this.ctx.knobs.processExtensions || this.scheduled.has(p.id)) return;
    this.scheduled.add(p.id);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.process(p);
    }, this.ctx.knobs.extensionDelayMs);
    this.timers.add(timer);
  }

  /** Identity of every operation first, so references to users created later in the same bulk resolve. */
  private process(p: ProvisionRecord): void {
    if (p.completedAt !== undefined || !this.provisions.has(p.id)) return;
    for (const op of p.operations) if (op.state === 'pending' && !op.identityDone) this.applyIdentity(p, op);
    for (const op of p.operations) if (op.state === 'pending') this.applyExtensions(p, op);
    this.complete(p);
  }

  private applyIdentity(p: ProvisionRecord, op: OperationRecord): void {
    const { work } = op;
    try {
      switch (work.kind) {
        case 'create':
          op.userId = this.ctx.users.create(work.identity, p.companyId).resource.id;
          break;
        case 'replace':
          this.ctx.users.replace(work.userId, work.identity, p.companyId);
          break;
        case 'patch':
          if (work.identityOps.length > 0)
            this.ctx.users.patch(work.userId, identityPatchBody(work.identityOps), p.companyId);
          else this.ctx.users.get(work.userId, p.companyId);
          break;
        case 'delete':
          this.ctx.users.remove(work.userId, p.companyId);
          break;
        case 'invalid':
          failIdentity(op, work.code, work.messages);
          return;
      }
    } catch (err) {
      const { code, messages } = describeError(err);
      failIdentity(op, code, messages);
      return;
    }
    recordIdentitySuccess(op);
  }

  private applyExtensions(p: ProvisionRecord, op: OperationRecord): void {
    const userId = op.userId;
    const user = userId === undefined || op.work.kind === 'delete' ? undefined : this.tryGetUser(userId, p.companyId);
    let spendUserFailed = false;
    for (const urn of ASYNC_EXTENSION_URNS) {
      const ops = op.extensionOps.get(urn);
      if (!ops) {
        op.outcomes.set(urn, { result: 'no-op', code: '200' });
        continue;
      }
      if (!user || userId === undefined) {
        op.outcomes.set(urn, {
          result: 'error',
          code: '404',
          messages: [{ code: 'INVALID_USER', message: 'User does not exist', schemaPath: urn, type: 'error' }],
        });
        continue;
      }
      if (spendUserFailed && SPEND_DEPENDENT_URNS.includes(urn)) {
        op.outcomes.set(urn, { result: 'not-processed', code: NOT_PROCESSED_CODE });
        continue;
      }
      const outcome = this.applyExtension(p.companyId, userId, urn, ops);
      op.outcomes.set(urn, outcome);
      if (urn === SPEND_USER_URN && outcome.result === 'error') spendUserFailed = true;
    }
    const failed = [...op.outcomes.values()].some((o) => o.result === 'error');
    op.state = failed ? 'failed' : 'success';
    op.code = failed ? '207' : '200';
  }

  private applyExtension(companyId: string, userId: string, urn: string, ops: ExtensionOp[]): ExtensionOutcome {
    const stored = this.tryGetUser(userId, companyId);
    let next: Json | undefined;
    try {
      next = applyExtensionOps(urn, stored?.extensions[urn], ops);
    } catch (err) {
      if (!(err instanceof ExtensionPathError)) throw err;
      return {
        result: 'error',
        code: '400',
        messages: [{ code: 'INVALID_INPUT', message: err.message, schemaPath: err.schemaPath, type: 'error' }],
      };
    }
    if (next === undefined) {
      this.ctx.users.setExtension(userId, urn, undefined);
      return { result: 'success', code: '200' };
    }
    if (SPEND_DEPENDENT_URNS.includes(urn) && !stored?.extensions[SPEND_USER_URN]) {
      return {
        result: 'error',
        code: '400',
        messages: [
          {
            code: 'INVALID_VALUE',
            message: `Spend User extension is required: '${SPEND_USER_URN}'`,
            schemaPath: SPEND_USER_URN,
            type: 'error',
          },
        ],
      };
    }
    const messages = validateExtension(urn, next, this.validationEnv(companyId));
    if (messages.some((m) => m.type === 'error'))
      return { result: 'error', code: extensionErrorCode(messages), messages };
    this.ctx.users.setExtension(userId, urn, next);
    return messages.length > 0 ? { result: 'success', code: '200', messages } : { result: 'success', code: '200' };
  }

  private validationEnv(companyId: string): ValidationEnv {
    return {
      userById: (id) => this.tryGetUser(id, companyId),
      userByEmployeeNumber: (n) => this.ctx.users.findByEmployeeNumber(n, companyId),
      roleCodes: this.ctx.knobs.spendRoleCodes,
      listItems: this.ctx.knobs.spendListItems,
      ledgerCodes: this.ctx.knobs.spendLedgerCodes,
      ruleClasses: this.ctx.knobs.travelRuleClasses,
      hierarchyNodes: this.ctx.knobs.hierarchyNodes,
    };
  }

  private tryGetUser(id: string, companyId: string): StoredUser | undefined {
    try {
      return this.ctx.users.get(id, companyId);
    } catch {
      return undefined;
    }
  }

  private complete(p: ProvisionRecord): void {
    const now = this.ctx.clock.now();
    p.completedAt = now;
    p.lastModifiedAt = now;
    this.pending.delete(p.id);
    this.scheduled.delete(p.id);
    const success = p.operations.every((op) => op.state === 'success');
    this.ctx.events.publish({
      topic: 'public.concur.user.provisioning',
      eventType: 'provisionCompleted',
      subtopic: p.id,
      companyId: p.companyId,
      correlationId: p.correlationId,
      facts: { originator: 'com.concur.provisioning', provisionId: p.id, provisionStatusHref: p.location, success },
    });
  }

  private timeoutIfLate(p: ProvisionRecord, now: number): void {
    if (p.completedAt !== undefined || now - p.createdAt < this.ctx.knobs.provisionTimeoutMs) return;
    for (const op of p.operations) {
      if (op.state !== 'pending') continue;
      op.state = 'failed';
      op.code = TIMEOUT_CODE;
      for (const urn of REPORTED_URNS)
        if (!op.outcomes.has(urn)) op.outcomes.set(urn, { result: 'not-processed', code: TIMEOUT_CODE });
    }
    this.complete(p);
  }

  private expireIfOld(p: ProvisionRecord, now: number): boolean {
    if (now - p.createdAt < this.ctx.knobs.statusRetentionMs) return false;
    this.provisions.delete(p.id);
    this.pending.delete(p.id);
    this.scheduled.delete(p.id);
    return true;
  }

  private sweep(): void {
    const now = this.ctx.clock.now();
    for (const id of [...this.pending]) {
      const p = this.provisions.get(id);
      if (!p) this.pending.delete(id);
      else {
        this.timeoutIfLate(p, now);
        if (p.completedAt === undefined) this.schedule(p);
      }
    }
    // Map order is creation order, so the expired ones are at the front.
    for (const p of this.provisions.values()) if (!this.expireIfOld(p, now)) break;
  }

  private startSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

function newOperation(
  id: string,
  bulkId: string | undefined,
  work: OperationWork,
  extensionOps: Map<string, ExtensionOp[]>,
): OperationRecord {
  return {
    id,
    bulkId,
    userId: work.kind === 'create' ? undefined : work.userId,
    work,
    extensionOps,
    identityDone: false,
    state: 'pending',
    code: undefined,
    outcomes: new Map(),
  };
}

function bulkOperation(input: BulkOperationInput, id: string): OperationRecord {
  if (input.method === 'DELETE')
    return newOperation(id, input.bulkId, { kind: 'delete', userId: input.userId ?? '' }, new Map());
  if (input.method === 'PATCH') {
    try {
      const split = splitPatchOp(input.data);
      const work: OperationWork = {
        kind: 'patch',
        userId: input.userId ?? '',
        identityOps: split.identityOps,
        touchesEnterprise: split.touchesEnterprise,
      };
      return newOperation(id, input.bulkId, work, split.extensionOps);
    } catch (err) {
      const { code, messages } = describeError(err);
      return newOperation(id, input.bulkId, { kind: 'invalid', userId: input.userId, code, messages }, new Map());
    }
  }
  const { identity, extensionOps, touchesEnterprise } = splitResource(input.data);
  const work: OperationWork =
    input.method === 'POST'
      ? { kind: 'create', identity, touchesEnterprise }
      : { kind: 'replace', userId: input.userId ?? '', identity, touchesEnterprise };
  return newOperation(id, input.bulkId, work, extensionOps);
}

/** Splits a full User resource into its identity part and whole-extension writes (replace semantics). */
export function splitResource(body: unknown): {
  identity: Json;
  extensionOps: Map<string, ExtensionOp[]>;
  touchesEnterprise: boolean;
} {
  if (!isObject(body))
    throw SimHttpError.scim(400, 'User resource must be a JSON object', { scimType: 'invalidSyntax' });
  const identity: Json = {};
  const extensionOps = new Map<string, ExtensionOp[]>();
  for (const [key, value] of Object.entries(body)) {
    const urn = asyncExtensionUrn(key);
    if (urn === undefined) identity[key] = value;
    else
      extensionOps.set(urn, [value === null ? { op: 'remove', attrPath: '' } : { op: 'replace', attrPath: '', value }]);
  }
  if (Array.isArray(identity.schemas)) {
    identity.schemas = identity.schemas.filter((s) => typeof s !== 'string' || asyncExtensionUrn(s) === undefined);
  }
  const touchesEnterprise = Object.keys(identity).some((k) => k.toLowerCase() === ENTERPRISE_URN.toLowerCase());
  return { identity, extensionOps, touchesEnterprise };
}

function recordIdentitySuccess(op: OperationRecord): void {
  op.identityDone = true;
  const { work } = op;
  const coreSent = work.kind !== 'patch' || work.identityOps.length > 0;
  const enterpriseSent = work.kind !== 'delete' && work.kind !== 'invalid' && work.touchesEnterprise;
  op.outcomes.set(CORE_URN, coreSent ? { result: 'success', code: '200' } : { result: 'no-op', code: '200' });
  op.outcomes.set(
    ENTERPRISE_URN,
    enterpriseSent ? { result: 'success', code: '200' } : { result: 'no-op', code: '200' },
  );
}

/** Identity failed: the operation fails with Identity's status; nothing else is processed. */
function failIdentity(op: OperationRecord, code: string, messages: ConcurMessage[]): void {
  op.identityDone = true;
  op.state = 'failed';
  op.code = code;
  op.outcomes.set(CORE_URN, { result: 'error', code, messages });
  for (const urn of REPORTED_URNS)
    if (!op.outcomes.has(urn)) op.outcomes.set(urn, { result: 'not-processed', code: NOT_PROCESSED_CODE });
}

function describeError(err: unknown): { code: string; messages: ConcurMessage[] } {
  if (err instanceof SimHttpError) {
    const body = err.body as Json | undefined;
    const concur = isObject(body) ? body[CONCUR_ERROR_URN] : undefined;
    const listed = isObject(concur) && Array.isArray(concur.messages) ? (concur.messages as ConcurMessage[]) : [];
    const detail = isObject(body) && typeof body.detail === 'string' ? body.detail : err.message;
    return {
      code: String(err.statusCode),
      messages: listed.length > 0 ? listed : [{ code: 'INVALID_INPUT', message: detail, type: 'error' }],
    };
  }
  return {
    code: '500',
    messages: [{ code: 'INTERNAL_ERROR', message: err instanceof Error ? err.message : String(err), type: 'error' }],
  };
}
