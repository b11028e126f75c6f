import { SimHttpError } from '../errors.ts';
import { isRecord } from './schema.ts';

// Identity v4.1 cursors (reference §2.5): opaque base64 JSON shaped like Concur's
// `{"created-id": ..., "startIndex": 101}`, plus what a follow-up page needs when the client
// sends only `{schemas, count, cursor}`: the filter and projection of the first request.

export interface CursorState {
  /** Sequence number of the last user on the previous page. */
  afterSeq: number;
  startIndex: number;
  companyId: string;
  filter: string | undefined;
  attributes: string[] | undefined;
  excludedAttributes: string[] | undefined;
}

export function encodeCursor(state: CursorState, lastId: string, lastCreated: string): string {
  const body = {
    'created-id': `${Date.parse(lastCreated) || 0}_${lastId}`,
    startIndex: state.startIndex,
    seq: state.afterSeq,
    company: state.companyId,
    ...(state.filter !== undefined ? { filter: state.filter } : {}),
    ...(state.attributes ? { attributes: state.attributes } : {}),
    ...(state.excludedAttributes ? { excludedAttributes: state.excludedAttributes } : {}),
  };
  return Buffer.from(JSON.stringify(body)).toString('base64');
}

function badCursor(): SimHttpError {
  return SimHttpError.scim(400, 'Invalid cursor', { scimType: 'invalidValue' });
}

const stringList = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;

export function decodeCursor(cursor: unknown, companyId: string): CursorState {
  if (typeof cursor !== 'string' || cursor === '') throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (
    !isRecord(parsed) ||
    typeof parsed.seq !== 'number' ||
    typeof parsed.startIndex !== 'number' ||
    parsed.company !== companyId
  ) {
    throw badCursor();
  }
  return {
    afterSeq: parsed.seq,
    startIndex: parsed.startIndex,
    companyId,
    filter: typeof parsed.filter === 'string' ? parsed.filter : undefined,
    attributes: stringList(parsed.attributes),
    excludedAttributes: stringList(parsed.excludedAttributes),
  };
}

/** Parses `count` (query string or number) within [1, max]; undefined → default. */
export function parseCount(raw: unknown, def: number, max: number, clamp = false): number {
  if (raw === undefined || raw === null || raw === '') return def;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1 || (!clamp && n > max)) {
    throw SimHttpError.scim(400, `'count' must be an integer from 1 to ${max}`, { scimType: 'invalidValue' });
  }
  return Math.min(n, max);
}
