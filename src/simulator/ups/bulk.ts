import { SimHttpError } from '../errors.ts';

/** Documented Bulk limits: 100 operations or 400 KB per request. */
export const MAX_BULK_OPERATIONS = 100;
export const MAX_BULK_BYTES = 400 * 1024;

export type BulkMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface BulkOperationInput {
  method: BulkMethod;
  bulkId: string | undefined;
  /** The UUID from `/Users/{uuid}` (undefined for POST). */
  userId: string | undefined;
  data: unknown;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const USERS_PATH = /^\/Users\/?$/;
const USER_PATH = /^\/Users\/([^/?#]+)\/?$/;

/**
 * Validates a SCIM BulkRequest as a whole: any problem rejects the request before anything is
 * applied (413 over 400 KB, 400 for everything else, including more than 100 operations).
 */
export function parseBulkRequest(body: unknown, sizeBytes: number): BulkOperationInput[] {
  if (sizeBytes > MAX_BULK_BYTES) {
    throw SimHttpError.scim(
      413,
      `Bulk request of ${sizeBytes} bytes exceeds the maximum payload size of ${MAX_BULK_BYTES} bytes (400 KB)`,
      {
        scimType: 'tooLarge',
        messages: [{ code: 'PAYLOAD_TOO_LARGE', message: 'The request exceeds 400 KB', type: 'error' }],
      },
    );
  }
  if (!isObject(body)) throw bad('Bulk request body must be a JSON object', 'invalidSyntax');
  const operations = body.Operations ?? body.operations;
  if (!Array.isArray(operations) || operations.length === 0)
    throw bad('Bulk request requires a non-empty Operations array', 'invalidSyntax');
  if (operations.length > MAX_BULK_OPERATIONS) {
    throw bad(`Bulk request has ${operations.length} operations; the maximum is ${MAX_BULK_OPERATIONS}`, 'tooMany');
  }
  const bulkIds = new Set<string>();
  return operations.map((raw, i) => {
    const where = `Operations[${i}]`;
    if (!isObject(raw)) throw bad(`${where} must be an object`, 'invalidSyntax');
    const method = typeof raw.method === 'string' ? raw.method.toUpperCase() : '';
    if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') {
      throw bad(`${where}.method must be one of POST, PUT, PATCH, DELETE`, 'invalidValue');
    }
    const path = typeof raw.path === 'string' ? raw.path : '';
    let userId: string | undefined;
    if (method === 'POST') {
      if (!USERS_PATH.test(path)) throw bad(`${where}.path must be /Users for POST`, 'invalidPath');
    } else {
      const m = USER_PATH.exec(path);
      if (!m) throw bad(`${where}.path must be /Users/{uuid} for ${method}`, 'invalidPath');
      userId = decodeURIComponent(m[1] ?? '');
    }
    let bulkId: string | undefined;
    if (raw.bulkId !== undefined && raw.bulkId !== null) {
      if (typeof raw.bulkId !== 'string' || raw.bulkId === '')
        throw bad(`${where}.bulkId must be a non-empty string`, 'invalidValue');
      if (bulkIds.has(raw.bulkId))
        throw bad(`${where}.bulkId '${raw.bulkId}' is not unique within the request`, 'uniqueness');
      bulkIds.add(raw.bulkId);
      bulkId = raw.bulkId;
    }
    if (method === 'POST' && bulkId === undefined) throw bad(`${where}.bulkId is required for POST`, 'invalidValue');
    if (method !== 'DELETE' && !isObject(raw.data))
      throw bad(`${where}.data must be an object for ${method}`, 'invalidSyntax');
    if (method === 'PUT' && isObject(raw.data) && raw.data.id !== undefined && raw.data.id !== userId) {
      throw bad(`${where}.data.id does not match the path`, 'invalidValue');
    }
    return { method, bulkId, userId, data: raw.data };
  });
}

function bad(detail: string, scimType: string): SimHttpError {
  return SimHttpError.scim(400, detail, { scimType });
}
