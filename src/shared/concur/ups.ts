import { ProvError } from '../errors.ts';
import type { CallOptions, ConcurApi } from './api.ts';
import { PatchBuilder, type PatchRequest } from './patch.ts';
import {
  BULK_REQUEST_URN,
  provisionStatusSchema,
  upsUserResponseSchema,
  type ConcurUser,
  type ProvisionStatus,
} from './schemas.ts';

export const UPS_BASE = '/profile/v4';
/** Concur's documented Bulk limits. */
export const BULK_MAX_OPERATIONS = 100;
export const BULK_MAX_BYTES = 400 * 1024;

export type BulkOperation =
  | { method: 'POST'; path: '/Users'; bulkId: string; data: Record<string, unknown> }
  | { method: 'PUT'; path: string; bulkId?: string; data: Record<string, unknown> }
  | { method: 'PATCH'; path: string; bulkId?: string; data: PatchRequest };

/** A create: `bulkId` is required by Concur for POST and comes back on the status operation. */
export function bulkPost(bulkId: string, user: Record<string, unknown>): BulkOperation {
  return { method: 'POST', path: '/Users', bulkId, data: user };
}

/** A full replace; Concur wants the UUID in the path and in `data.id`. */
export function bulkPut(id: string, user: Record<string, unknown>, bulkId?: string): BulkOperation {
  return { method: 'PUT', path: `/Users/${id}`, ...(bulkId === undefined ? {} : { bulkId }), data: { ...user, id } };
}

export function bulkPatch(id: string, ops: PatchBuilder | PatchRequest, bulkId?: string): BulkOperation {
  return {
    method: 'PATCH',
    path: `/Users/${id}`,
    ...(bulkId === undefined ? {} : { bulkId }),
    data: ops instanceof PatchBuilder ? ops.build() : ops,
  };
}

export interface BulkRequest {
  schemas: [typeof BULK_REQUEST_URN];
  failOnErrors?: number;
  Operations: BulkOperation[];
}

export function bulkRequest(ops: BulkOperation[]): BulkRequest {
  return { schemas: [BULK_REQUEST_URN], Operations: ops };
}

export interface BulkLimits {
  /** At most this many operations per request (≤ 100). */
  maxOperations?: number;
  /** At most this many bytes of serialized request body (≤ 400 KB). */
  maxBytes?: number;
}

const byteLength = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');
/** Bytes of the envelope around the operations (`{"schemas":[...],"Operations":[]}`). */
const ENVELOPE_BYTES = byteLength(bulkRequest([]));

/**
 * Packs operations into Bulk requests within both limits. `add()` returns the batches it closed
 * (send those now); `flush()` returns the last, partial one. An operation that alone exceeds the
 * byte limit is refused (PROV_ERR_INPUT) rather than sent to fail at Concur.
 */
export class BulkBuilder {
  readonly maxOperations: number;
  readonly maxBytes: number;
  private ops: BulkOperation[] = [];
  private bytes = ENVELOPE_BYTES;

  constructor(limits: BulkLimits = {}) {
    this.maxOperations = Math.min(limits.maxOperations ?? BULK_MAX_OPERATIONS, BULK_MAX_OPERATIONS);
    this.maxBytes = Math.min(limits.maxBytes ?? BULK_MAX_BYTES, BULK_MAX_BYTES);
    if (this.maxOperations < 1 || this.maxBytes <= ENVELOPE_BYTES) {
      throw new ProvError('PROV_ERR_INTERNAL', 'BulkBuilder limits are too small');
    }
  }

  /** Serialized size of one operation. */
  static operationBytes(op: BulkOperation): number {
    return byteLength(op);
  }

  add(op: BulkOperation): BulkOperation[][] {
    const size = BulkBuilder.operationBytes(op);
    if (ENVELOPE_BYTES + size > this.maxBytes) {
      throw new ProvError(
        'PROV_ERR_INPUT',
        `Bulk operation ${op.bulkId ?? op.path} is ${size} bytes, more than one request may carry (${this.maxBytes})`,
        {
          details: { bulkId: op.bulkId, bytes: size, maxBytes: this.maxBytes },
        },
      );
    }
    const closed: BulkOperation[][] = [];
    // Joining a non-empty batch costs the operation plus one comma.
    if (this.ops.length > 0 && this.bytes + size + 1 > this.maxBytes) closed.push(this.take());
    this.bytes += size + (this.ops.length > 0 ? 1 : 0);
    this.ops.push(op);
    if (this.ops.length >= this.maxOperations) closed.push(this.take());
    return closed;
  }

  get pending(): number {
    return this.ops.length;
  }

  /** Serialized size of the current partial batch. */
  get pendingBytes(): number {
    return this.bytes;
  }

  flush(): BulkOperation[] | undefined {
    return this.ops.length > 0 ? this.take() : undefined;
  }

  private take(): BulkOperation[] {
    const batch = this.ops;
    this.ops = [];
    this.bytes = ENVELOPE_BYTES;
    return batch;
  }
}

/** Splits any number of operations into Bulk-sized batches. */
export function splitBulk(ops: Iterable<BulkOperation>, limits: BulkLimits = {}): BulkOperation[][] {
  const builder = new BulkBuilder(limits);
  const batches: BulkOperation[][] = [];
  for (const op of ops) batches.push(...builder.add(op));
  const last = builder.flush();
  if (last) batches.push(last);
  return batches;
}

export interface UpsUserResult {
  provisionId: string;
  statusUrl: string | undefined;
  user: ConcurUser;
}

export interface BulkSubmitResult {
  provisionId: string;
  status: ProvisionStatus;
}

/** UPS v4: identity plus Spend/Travel extensions, applied asynchronously and tracked by provision id. */
export class UpsApi {
  constructor(private readonly api: ConcurApi) {}

  /** POST /Bulk with one batch (use BulkBuilder to split); the answer's `id` is the provision id. */
  async submitBulk(ops: BulkOperation[], opts: CallOptions = {}): Promise<BulkSubmitResult> {
    if (ops.length === 0) throw new ProvError('PROV_ERR_INTERNAL', 'submitBulk needs at least one operation');
    const body = bulkRequest(ops);
    const bytes = byteLength(body);
    if (ops.length > BULK_MAX_OPERATIONS || bytes > BULK_MAX_BYTES) {
      throw new ProvError(
        'PROV_ERR_INTERNAL',
        `Bulk request over Concur's limits (${ops.length} operations, ${bytes} bytes): split it with BulkBuilder`,
      );
    }
    const res = await this.api.call({
      ...opts,
      method: 'POST',
      path: `${UPS_BASE}/Bulk`,
      json: body,
      schema: provisionStatusSchema,
      what: 'bulk submit',
    });
    return { provisionId: res.data.id, status: res.data };
  }

  async postUser(user: Record<string, unknown>, opts: CallOptions = {}): Promise<UpsUserResult> {
    const res = await this.api.call({
      ...opts,
      method: 'POST',
      path: `${UPS_BASE}/Users`,
      json: user,
      schema: upsUserResponseSchema,
      what: 'provisioning user create',
    });
    return toResult(res.data);
  }

  async patchUser(id: string, ops: PatchBuilder | PatchRequest, opts: CallOptions = {}): Promise<UpsUserResult> {
    const body = ops instanceof PatchBuilder ? ops.build() : ops;
    const res = await this.api.call({
      ...opts,
      method: 'PATCH',
      path: `${UPS_BASE}/Users/${encodeURIComponent(id)}`,
      json: body,
      schema: upsUserResponseSchema,
      what: 'provisioning user patch',
    });
    return toResult(res.data);
  }

  /** Full replace: everything not sent is erased (Spend resets to defaults). Prefer patchUser. */
  async putUser(id: string, user: Record<string, unknown>, opts: CallOptions = {}): Promise<UpsUserResult> {
    const res = await this.api.call({
      ...opts,
      method: 'PUT',
      path: `${UPS_BASE}/Users/${encodeURIComponent(id)}`,
      json: { ...user, id },
      schema: upsUserResponseSchema,
      what: 'provisioning user replace',
    });
    return toResult(res.data);
  }
}

function toResult(user: ConcurUser & { meta: { provisionId: string; statusUrl?: string | undefined } }): UpsUserResult {
  return { provisionId: user.meta.provisionId, statusUrl: user.meta.statusUrl, user };
}
