import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SimContext, StoredUser } from '../context.ts';
import { SimHttpError } from '../errors.ts';
import { FilterError, matchesFilter, parseFilter, type Filter } from './filter.ts';
import { decodeCursor, encodeCursor, parseCount, type CursorState } from './paging.ts';
import { parseProjection, project, type Projection } from './projection.ts';
import { ENTERPRISE_URN, LIST_RESPONSE_URN, isRecord } from './schema.ts';
import type { MemoryUserStore, SearchView } from './store.ts';

// Identity v4.1 (and the v4 shapes) at /profile/identity/{v4.1,v4}/Users (reference §1.3, §2).

const V41 = '/profile/identity/v4.1/Users';
const V4 = '/profile/identity/v4/Users';
const config = { family: 'identity' as const };

type Query = Record<string, string | undefined>;
type IdParams = { id: string };

function invalidFilter(err: unknown): SimHttpError {
  const message = err instanceof Error ? err.message : String(err);
  return SimHttpError.scim(400, `Invalid filter: ${message}`, {
    scimType: 'invalidFilter',
    messages: [{ code: 'INVALID_INPUT', message, type: 'error' }],
  });
}

function compileFilter(text: string | undefined): Filter | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return parseFilter(text);
  } catch (err) {
    if (err instanceof FilterError) throw invalidFilter(err);
    throw err;
  }
}

const asList = (v: unknown): string[] | undefined =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : Array.isArray(v)
      ? v.map(String)
      : undefined;

interface PageRequest {
  companyId: string;
  filterText: string | undefined;
  count: number;
  cursor: CursorState | undefined;
  attributes: string[] | undefined;
  excludedAttributes: string[] | undefined;
}

export function registerIdentityRoutes(app: FastifyInstance, ctx: SimContext, store: MemoryUserStore): void {
  const companyOf = (request: FastifyRequest): string => {
    const token = ctx.auth.verify(request.headers.authorization, 'company');
    return token.companyId as string;
  };
  const none: Projection = { attributes: [], excluded: [] };

  const listPage = (req: PageRequest): Record<string, unknown> => {
    const filter = compileFilter(req.filterText);
    const projection = parseProjection(req.attributes, req.excludedAttributes);
    const matching = candidates(store, req.companyId, filter).filter(
      (e) => !filter || matchesFilter(filter, e.resource),
    );
    const afterSeq = req.cursor?.afterSeq ?? 0;
    const first = matching.findIndex((e) => e.seq > afterSeq);
    const from = first === -1 ? matching.length : first;
    const page = matching.slice(from, from + req.count);
    const body: Record<string, unknown> = {
      schemas: [LIST_RESPONSE_URN],
      totalResults: matching.length,
      itemsPerPage: page.length,
      startIndex: from + 1,
      Resources: page.map((e) => project(e.resource, projection)),
    };
    const last = page.at(-1);
    if (last && from + page.length < matching.length) {
      const meta = isRecord(last.resource.meta) ? last.resource.meta : {};
      body.nextCursor = encodeCursor(
        {
          afterSeq: last.seq,
          startIndex: from + page.length + 1,
          companyId: req.companyId,
          filter: req.filterText,
          attributes: req.attributes,
          excludedAttributes: req.excludedAttributes,
        },
        last.resource.id,
        String(meta.created ?? ''),
      );
    }
    return body;
  };

  const rejectStartIndex = (v: unknown): void => {
    if (v !== undefined) {
      throw SimHttpError.scim(400, "'startIndex' is not supported (deep pagination): use 'cursor'", {
        scimType: 'invalidValue',
      });
    }
  };

  // --- v4.1 list and search ---
  app.get<{ Querystring: Query }>(V41, { config }, async (request) => {
    const companyId = companyOf(request);
    const q = request.query;
    rejectStartIndex(q.startIndex);
    if (q.filter !== undefined) {
      throw SimHttpError.scim(400, "'filter' is not supported on GET in v4.1: use POST /Users/.search", {
        scimType: 'invalidFilter',
      });
    }
    const cursor = q.cursor !== undefined ? decodeCursor(q.cursor, companyId) : undefined;
    return listPage({
      companyId,
      filterText: undefined,
      count: parseCount(q.count, 100, 1000),
      cursor,
      attributes: asList(q.attributes) ?? cursor?.attributes,
      excludedAttributes: asList(q.excludedAttributes) ?? cursor?.excludedAttributes,
    });
  });

  app.post<{ Querystring: Query }>(`${V41}/.search`, { config }, async (request) => {
    const companyId = companyOf(request);
    const body = request.body;
    if (!isRecord(body))
      throw SimHttpError.scim(400, 'SearchRequest body must be a JSON object', { scimType: 'invalidSyntax' });
    if (!Array.isArray(body.schemas) || body.schemas.length === 0) {
      throw SimHttpError.scim(400, "SearchRequest needs a non-empty 'schemas'", { scimType: 'invalidSyntax' });
    }
    rejectStartIndex(body.startIndex ?? request.query.startIndex);
    if (body.filter !== undefined && typeof body.filter !== 'string')
      throw invalidFilter(new Error('filter must be a string'));
    const rawCursor = body.cursor ?? request.query.cursor;
    const cursor = rawCursor !== undefined && rawCursor !== null ? decodeCursor(rawCursor, companyId) : undefined;
    return listPage({
      companyId,
      filterText: (body.filter as string | undefined) ?? cursor?.filter,
      count: parseCount(body.count, 100, 1000),
      cursor,
      attributes: asList(body.attributes) ?? cursor?.attributes,
      excludedAttributes: asList(body.excludedAttributes) ?? cursor?.excludedAttributes,
    });
  });

  // --- v4 list: filter `attr eq "v"` on userName, employeeNumber or externalId; startIndex/count ---
  app.get<{ Querystring: Query }>(V4, { config }, async (request) => {
    const companyId = companyOf(request);
    const q = request.query;
    const filter = compileFilter(q.filter);
    if (filter && !(filter.kind === 'cmp' && filter.op === 'eq' && isV4Attr(filter))) {
      throw invalidFilter(new Error('v4 supports only userName, employeeNumber or externalId with eq'));
    }
    const startIndex = q.startIndex === undefined ? 1 : Number(q.startIndex);
    if (!Number.isInteger(startIndex) || startIndex < 1) {
      throw SimHttpError.scim(400, "'startIndex' must be an integer of at least 1", { scimType: 'invalidValue' });
    }
    const count = parseCount(q.count, 10, 100, true);
    const matching = candidates(store, companyId, filter).filter((e) => !filter || matchesFilter(filter, e.resource));
    const page = matching.slice(startIndex - 1, startIndex - 1 + count);
    return {
      schemas: [LIST_RESPONSE_URN],
      totalResults: matching.length,
      startIndex,
      itemsPerPage: page.length,
      Resources: page.map((e) => project(e.resource, none)),
    };
  });

  // --- single-user CRUD (same shapes on v4.1 and v4) ---
  for (const base of [V41, V4]) {
    app.post(base, { config }, async (request) => {
      const user = store.create(request.body, companyOf(request));
      return project(user.resource, none);
    });
    app.get<{ Params: IdParams; Querystring: Query }>(`${base}/:id`, { config }, async (request) => {
      const user = store.get(request.params.id, companyOf(request));
      return project(user.resource, parseProjection(request.query.attributes, request.query.excludedAttributes));
    });
    app.put<{ Params: IdParams }>(`${base}/:id`, { config }, async (request) => {
      const user = store.replace(request.params.id, request.body, companyOf(request));
      return project(user.resource, none);
    });
    app.patch<{ Params: IdParams }>(`${base}/:id`, { config }, async (request) => {
      const user = store.patch(request.params.id, request.body, companyOf(request));
      return project(user.resource, none);
    });
    app.delete<{ Params: IdParams }>(`${base}/:id`, { config }, async (request, reply) => {
      store.remove(request.params.id, companyOf(request));
      return reply.code(204).send();
    });
  }
}

/**
 * Users a filter can match, as search sees them (knob searchLagMs): an `eq` on userName,
 * employeeNumber or externalId (alone, in a top-level `and`, or in an `or` of such terms, as the
 * pipeline's batched look-ups send) uses the store's index, as lookups by key are the pipeline's
 * hot path. Callers still apply the filter.
 */
function candidates(store: MemoryUserStore, companyId: string, filter: Filter | undefined): SearchView[] {
  // undefined: not answerable from the index (scan everyone).
  const indexed = (f: Filter): StoredUser[] | undefined => {
    if (f.kind === 'and') return indexed(f.left) ?? indexed(f.right);
    if (f.kind === 'or') {
      const l = indexed(f.left);
      const r = l === undefined ? undefined : indexed(f.right);
      return l === undefined || r === undefined ? undefined : [...l, ...r];
    }
    if (f.kind !== 'cmp' || f.op !== 'eq' || typeof f.value !== 'string' || !isV4Attr(f)) return undefined;
    const { attr } = f.path;
    const found =
      attr === 'userName'
        ? store.findByUserName(f.value)
        : attr === 'externalId'
          ? store.findByExternalId(f.value, companyId)
          : store.findByEmployeeNumber(f.value, companyId);
    return found && found.companyId === companyId ? [found] : [];
  };
  const hits = filter ? indexed(filter) : undefined;
  return store.searchView(companyId, hits === undefined ? undefined : [...new Set(hits.map((u) => u.resource.id))]);
}

function isV4Attr(f: Filter & { kind: 'cmp' }): boolean {
  const p = f.path;
  if (p.sub) return false;
  if (!p.urn) return p.attr === 'userName' || p.attr === 'externalId';
  return p.urn === ENTERPRISE_URN && p.attr === 'employeeNumber';
}
