import { ProvError } from '../errors.ts';
import type { CallOptions, ConcurApi } from './api.ts';
import { PatchBuilder, scimString, type PatchRequest } from './patch.ts';
import { ENTERPRISE_URN, SEARCH_REQUEST_URN, listResponseSchema, userSchema, type ConcurUser } from './schemas.ts';

export const IDENTITY_USERS = '/profile/identity/v4.1/Users';

/** Attributes a person is looked up by (unique per company, userName globally). */
export type LookupAttribute = 'userName' | 'employeeNumber' | 'externalId';

/** Filter names as Concur expects them: extension attributes in full URN notation. */
export const LOOKUP_FILTER_PATH: Record<LookupAttribute, string> = {
  userName: 'userName',
  externalId: 'externalId',
  employeeNumber: `${ENTERPRISE_URN}:employeeNumber`,
};

export function lookupValue(user: ConcurUser, attribute: LookupAttribute): string | undefined {
  if (attribute === 'employeeNumber') return user[ENTERPRISE_URN]?.employeeNumber;
  return user[attribute];
}

export interface SearchRequest {
  filter?: string;
  attributes?: string[];
  excludedAttributes?: string[];
  /** Page size, 1..1000 (Concur's default 100). */
  count?: number;
}

export interface SearchPage {
  users: ConcurUser[];
  totalResults: number | undefined;
  nextCursor: string | undefined;
}

export interface FindManyOptions extends CallOptions {
  /** Values per search request (and page size). Default 100. */
  batchSize?: number;
  /** Longest filter string sent in one request. Default 8 000 characters. */
  maxFilterLength?: number;
  attributes?: string[];
}

/** Identity v4.1: synchronous SCIM CRUD and cursor-paged search. */
export class IdentityApi {
  constructor(private readonly api: ConcurApi) {}

  async create(user: Record<string, unknown>, opts: CallOptions = {}): Promise<ConcurUser> {
    const res = await this.api.call({
      ...opts,
      method: 'POST',
      path: IDENTITY_USERS,
      json: user,
      schema: userSchema,
      what: 'identity create',
    });
    return res.data;
  }

  async get(id: string, opts: CallOptions & { attributes?: string[] } = {}): Promise<ConcurUser> {
    const res = await this.api.call({
      ...opts,
      method: 'GET',
      path: `${IDENTITY_USERS}/${encodeURIComponent(id)}`,
      query: { attributes: opts.attributes?.join(',') },
      schema: userSchema,
      what: 'identity user',
    });
    return res.data;
  }

  /** PUT: a full replace; anything not sent is erased or defaulted by Concur. */
  async replace(id: string, user: Record<string, unknown>, opts: CallOptions = {}): Promise<ConcurUser> {
    const res = await this.api.call({
      ...opts,
      method: 'PUT',
      path: `${IDENTITY_USERS}/${encodeURIComponent(id)}`,
      json: user,
      schema: userSchema,
      what: 'identity replace',
    });
    return res.data;
  }

  async patch(id: string, ops: PatchBuilder | PatchRequest, opts: CallOptions = {}): Promise<ConcurUser> {
    const body = ops instanceof PatchBuilder ? ops.build() : ops;
    const res = await this.api.call({
      ...opts,
      method: 'PATCH',
      path: `${IDENTITY_USERS}/${encodeURIComponent(id)}`,
      json: body,
      schema: userSchema,
      what: 'identity patch',
    });
    return res.data;
  }

  /** Pages of a `.search`, following `nextCursor` until it is absent. */
  async *searchPages(req: SearchRequest = {}, opts: CallOptions = {}): AsyncGenerator<SearchPage> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (;;) {
      const body = {
        schemas: [SEARCH_REQUEST_URN],
        ...(req.filter === undefined ? {} : { filter: req.filter }),
        ...(req.attributes === undefined ? {} : { attributes: req.attributes }),
        ...(req.excludedAttributes === undefined ? {} : { excludedAttributes: req.excludedAttributes }),
        ...(req.count === undefined ? {} : { count: req.count }),
        ...(cursor === undefined ? {} : { cursor }),
      };
      const res = await this.api.call({
        ...opts,
        method: 'POST',
        path: `${IDENTITY_USERS}/.search`,
        json: body,
        schema: listResponseSchema,
        what: 'identity search',
      });
      const page = res.data;
      yield { users: page.Resources, totalResults: page.totalResults, nextCursor: page.nextCursor };
      if (page.nextCursor === undefined || page.Resources.length === 0) return;
      // A server that hands back a cursor it already gave would loop forever.
      if (seen.has(page.nextCursor)) {
        throw new ProvError('PROV_ERR_RESPONSE', 'Concur identity search returned a cursor it had already returned', {
          details: { kind: 'response', correlationId: res.correlationId, pagesRead: seen.size + 1 },
        });
      }
      seen.add(page.nextCursor);
      cursor = page.nextCursor;
    }
  }

  /** Every user matching the search, across all pages. */
  async *search(req: SearchRequest = {}, opts: CallOptions = {}): AsyncGenerator<ConcurUser> {
    for await (const page of this.searchPages(req, opts)) yield* page.users;
  }

  /** The one user whose attribute equals `value` (case-insensitive, as Concur matches), or undefined. */
  async findBy(
    attribute: LookupAttribute,
    value: string,
    opts: CallOptions & { attributes?: string[] } = {},
  ): Promise<ConcurUser | undefined> {
    const found = await this.findMany(attribute, [value], { ...opts, batchSize: 1 });
    return found.get(value);
  }

  findByUserName(userName: string, opts: CallOptions = {}): Promise<ConcurUser | undefined> {
    return this.findBy('userName', userName, opts);
  }

  findByEmployeeNumber(employeeNumber: string, opts: CallOptions = {}): Promise<ConcurUser | undefined> {
    return this.findBy('employeeNumber', employeeNumber, opts);
  }

  findByExternalId(externalId: string, opts: CallOptions = {}): Promise<ConcurUser | undefined> {
    return this.findBy('externalId', externalId, opts);
  }

  /**
   * Looks many people up with few requests: `attr eq "a" or attr eq "b" ...` per batch.
   * Returns the users found, keyed by the value as given (values with no user are absent).
   */
  async findMany(
    attribute: LookupAttribute,
    values: readonly string[],
    opts: FindManyOptions = {},
  ): Promise<Map<string, ConcurUser>> {
    const found = new Map<string, ConcurUser>();
    const batchSize = Math.max(1, Math.min(opts.batchSize ?? 100, 1000));
    const unique = [...new Set(values)];
    for (const batch of filterBatches(attribute, unique, batchSize, opts.maxFilterLength ?? 8_000)) {
      const wanted = new Map<string, string[]>();
      for (const v of batch.values) wanted.set(v.toLowerCase(), [...(wanted.get(v.toLowerCase()) ?? []), v]);
      const req: SearchRequest = { filter: batch.filter, count: batchSize };
      if (opts.attributes) req.attributes = opts.attributes;
      for await (const user of this.search(req, opts)) {
        const got = lookupValue(user, attribute);
        for (const original of (got === undefined ? undefined : wanted.get(got.toLowerCase())) ?? [])
          found.set(original, user);
      }
    }
    return found;
  }
}

export interface FilterBatch {
  filter: string;
  values: string[];
}

/** Splits values into `or` filters of at most `batchSize` terms and `maxLength` characters. */
export function filterBatches(
  attribute: LookupAttribute,
  values: readonly string[],
  batchSize: number,
  maxLength: number,
): FilterBatch[] {
  const path = LOOKUP_FILTER_PATH[attribute];
  const batches: FilterBatch[] = [];
  let terms: string[] = [];
  let batchValues: string[] = [];
  let length = 0;
  const close = (): void => {
    if (terms.length > 0) batches.push({ filter: terms.join(' or '), values: batchValues });
    terms = [];
    batchValues = [];
    length = 0;
  };
  for (const value of values) {
    const term = `${path} eq ${scimString(value)}`;
    const added = term.length + (terms.length > 0 ? 4 : 0);
    if (terms.length >= batchSize || (terms.length > 0 && length + added > maxLength)) close();
    terms.push(term);
    batchValues.push(value);
    length += term.length + (terms.length > 1 ? 4 : 0);
  }
  close();
  return batches;
}
