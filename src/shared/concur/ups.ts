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
/** The request with no operations: `{"schemas":[...],"Operations":[]}`. */
const EMPTY_REQUEST = JSON.stringify(bulkRequest([]));
/** Bytes of the envelope around the operations. */
const ENVELOPE_BYTES = Buffer.byteLength(EMPTY_REQUEST, 'utf8');
/** The envelope's text before and after the operations (`Operations` is its last member). */
const ENVELOPE_OPEN = EMPTY_REQUEST.slice(0, -2);
const ENVELOPE_CLOSE = EMPTY_REQUEST.slice(-2);

/**
 * An operation serialized once: the JSON text measured against the limits is the text sent
 * (`bulkBody`), so an operation is never stringified twice.
 */
export interface SerializedOperation {
  readonly op: BulkOperation;
  readonly json: string;
  /** UTF-8 bytes of `json`. */
  readonly bytes: number;
}

export function serializeOperation(op: BulkOperation): SerializedOperation {
  const json = JSON.stringify(op);
  return { op, json, bytes: Buffer.byteLength(json, 'utf8') };
}

/** What BulkBuilder packs: operations, or operations already serialized. */
export type PackableOperation = BulkOperation | SerializedOperation;

function isSerialized(item: PackableOperation): item is SerializedOperation {
  return typeof (item as Partial<SerializedOperation>).json === 'string';
}

function serialized(item: PackableOperation): SerializedOperation {
  return isSerialized(item) ? item : serializeOperation(item);
}

/**
 * A Bulk request's body, exactly `JSON.stringify(bulkRequest(ops))`, built from each operation's
 * JSON text (serialized operations are not stringified again), with its size in bytes.
 */
export function bulkBody(ops: readonly PackableOperation[]): { text: string; bytes: number } {
  const parts = ops.map(serialized);
  let bytes = ENVELOPE_BYTES + Math.max(0, parts.length - 1);
  for (const p of parts) bytes += p.bytes;
  return { text: `${ENVELOPE_OPEN}${parts.map((p) => p.json).join(',')}${ENVELOPE_CLOSE}`, bytes };
}

/**
 * Packs operations into Bulk requests within both limits. `add()` returns the batches it closed
 * (send those now); `flush()` returns the last, partial one. An operation that alone exceeds the
 * byte limit is refused (PROV_ERR_INPUT) rather than sent to fail at Concur. Packing serialized
 * operations (`serializeOperation`) measures each by its JSON text, with no stringify at all.
 */
export class BulkBuilder<T extends PackableOperation = BulkOperation> {
  readonly maxOperations: number;
  readonly maxBytes: number;
  private ops: T[] = [];
  private bytes = ENVELOPE_BYTES;

  constructor(limits: BulkLimits = {}) {
    this.maxOperations = Math.min(limits.maxOperations ?? BULK_MAX_OPERATIONS, BULK_MAX_OPERATIONS);
    this.maxBytes = Math.min(limits.maxBytes ?? BULK_MAX_BYTES, BULK_MAX_BYTES);
    if (this.maxOperations < 1 || this.maxBytes <= ENVELOPE_BYTES) {
      throw new ProvError('PROV_ERR_INTERNAL', 'BulkBuilder limits are too small');
    }
  }

  /** Serialized size of one operation. */
  static operationBytes(op: PackableOperation): number {
    return isSerialized(op) ? op.bytes : byteLength(op);
  }

  add(item: T): T[][] {
    const size = BulkBuilder.operationBytes(item);
    if (ENVELOPE_BYTES + size > this.maxBytes) {
      const op: BulkOperation = isSerialized(item) ? item.op : (item as BulkOperation);
      throw new ProvError(
        'PROV_ERR_INPUT',
        `Bulk operation ${op.bulkId ?? op.path} is ${size} bytes, more than one request may carry (${this.maxBytes})`,
        {
          details: { bulkId: op.bulkId, bytes: size, maxBytes: this.maxBytes },
        },
      );
    }
    const closed: T[][] = [];
    // Joining a non-empty batch costs the operation plus one comma.
    if (this.ops.length > 0 && this.bytes + size + 1 > this.maxBytes) closed.push(this.take());
    this.bytes += size + (this.ops.length > 0 ? 1 : 0);
    this.ops.push(item);
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

  flush(): T[] | undefined {
    return this.ops.length > 0 ? this.take() : undefined;
  }

  private take(): T[] {
    const batch = this.ops;
    this.ops = [];
    this.bytes = ENVELOPE_BYTES;
    return batch;
  }
}

/** Splits any number of operations (plain or serialized) into Bulk-sized batches. */
export function splitBulk<T extends PackableOperation>(ops: Iterable<T>, limits: BulkLimits = {}): T[][] {
  const builder = new BulkBuilder<T>(limits);
  const batches: T[][] = [];
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

  /**
   * POST /Bulk with one batch (use BulkBuilder to split); the answer's `id` is the provision id.
   * Serialized operations are sent as their JSON text.
   */
  async submitBulk(ops: readonly PackableOperation[], opts: CallOptions = {}): Promise<BulkSubmitResult> {
    if (ops.length === 0) throw new ProvError('PROV_ERR_INTERNAL', 'submitBulk needs at least one operation');
    const body = bulkBody(ops);
    const bytes = body.bytes;
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
      jsonText: body.text,
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
