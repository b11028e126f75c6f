import { randomUUID } from 'node:crypto';
import type { SimContextBase, StoredUser, UserStore } from '../context.ts';
import { SimHttpError } from '../errors.ts';
import { applyPatch } from './patch.ts';
import { ENTERPRISE_URN, isRecord } from './schema.ts';
import { buildUserResource, generatedDisplayName, type UserResource } from './validate.ts';

// In-memory identity store. Contract for UPS (see UserStore in context.ts):
// - create/replace/patch validate exactly like Identity v4.1 and throw SimHttpError (400 with
//   every message, 409 uniqueness, 404 unknown id); they return the live StoredUser.
// - Spend/Travel URNs in bodies are ignored here; UPS stores them with setExtension.
// - setExtension(id, urn, value) sets (or with undefined deletes) one extension and does not
//   touch the identity resource or its meta.version.
// - findByEmployeeNumber / findByUserName match case-insensitively (like uniqueness).

interface Entry {
  user: StoredUser;
  /** Creation order; cursors page by it so inserts and deletes never shift a page. */
  seq: number;
}

/** One state of a user as search saw it from `at` on (`resource` undefined: deleted, or not yet created). */
interface Version {
  at: number;
  resource: UserResource | undefined;
}

/** A user written within the search lag: the states a lagging search may still show. */
interface Recent {
  companyId: string;
  seq: number;
  versions: Version[];
}

/** A user as a search sees it. */
export interface SearchView {
  resource: UserResource;
  seq: number;
}

/** What changed, for the ESS profile events (identity, or one Spend/Travel extension). */
export type UserChange =
  | {
      kind: 'identity';
      companyId: string;
      id: string;
      before: UserResource | undefined;
      after: UserResource | undefined;
    }
  | {
      kind: 'extension';
      companyId: string;
      id: string;
      urn: string;
      /** Every extension of the user before and after the change. */
      before: Record<string, Record<string, unknown>>;
      after: Record<string, Record<string, unknown>>;
    };

const lookupKey = (...parts: string[]): string => parts.map((p) => p.toLowerCase()).join('|');

function enterpriseOf(resource: Record<string, unknown>): Record<string, unknown> {
  const e = resource[ENTERPRISE_URN];
  return isRecord(e) ? e : {};
}

function conflict(lookup: string): SimHttpError {
  return SimHttpError.scim(409, `Principal with lookup type '${lookup}' with provided value already exists`, {
    scimType: 'uniqueness',
    messages: [
      {
        code: 'CONFLICT',
        message: `Principal with lookup type '${lookup}' with provided value already exists`,
        type: 'error',
      },
    ],
  });
}

export class MemoryUserStore implements UserStore {
  private readonly byId = new Map<string, Entry>();
  private readonly byUserName = new Map<string, string>();
  private readonly byEmployeeNumber = new Map<string, string>();
  private readonly byExternalId = new Map<string, string>();
  /** Users written within `searchLagMs`, with the states search may still show (knob searchLagMs). */
  private readonly recent = new Map<string, Recent>();
  private foreign: { list: readonly string[]; names: ReadonlySet<string> } | undefined;
  private seq = 0;
  /** Told about every committed change (the ESS profile events). Must not throw. */
  onChange: ((change: UserChange) => void) | undefined;

  constructor(private readonly ctx: SimContextBase) {}

  create(body: unknown, companyId: string): StoredUser {
    const id = randomUUID();
    const resource = this.build(id, body, companyId, undefined);
    this.assertUnique(resource, companyId, undefined);
    if (this.isForeign(resource.userName)) throw conflict('userName');
    const user: StoredUser = { resource, companyId, extensions: {} };
    this.seq += 1;
    this.byId.set(id, { user, seq: this.seq });
    this.index(user);
    this.remember(id, companyId, this.seq, undefined, resource);
    this.onChange?.({ kind: 'identity', companyId, id, before: undefined, after: resource });
    return user;
  }

  get(id: string, companyId: string): StoredUser {
    return this.entry(id, companyId).user;
  }

  replace(id: string, body: unknown, companyId: string): StoredUser {
    const entry = this.entry(id, companyId);
    const resource = this.build(id, body, companyId, entry.user.resource);
    return this.commit(entry, resource);
  }

  patch(id: string, patchOp: unknown, companyId: string): StoredUser {
    const entry = this.entry(id, companyId);
    const previous = entry.user.resource;
    const doc = structuredClone(previous) as Record<string, unknown>;
    // A generated displayName must follow name changes; an explicit one stays.
    if (doc.displayName === generatedDisplayName(previous)) delete doc.displayName;
    applyPatch(doc, patchOp);
    const resource = this.build(id, doc, companyId, previous);
    return this.commit(entry, resource);
  }

  remove(id: string, companyId: string): void {
    const entry = this.entry(id, companyId);
    this.unindex(entry.user);
    this.byId.delete(id);
    this.remember(id, companyId, entry.seq, entry.user.resource, undefined);
    this.onChange?.({ kind: 'identity', companyId, id, before: entry.user.resource, after: undefined });
  }

  findByEmployeeNumber(employeeNumber: string, companyId: string): StoredUser | undefined {
    const id = this.byEmployeeNumber.get(lookupKey(companyId, employeeNumber));
    return id === undefined ? undefined : this.byId.get(id)?.user;
  }

  findByUserName(userName: string): StoredUser | undefined {
    const id = this.byUserName.get(lookupKey(userName));
    return id === undefined ? undefined : this.byId.get(id)?.user;
  }

  findByExternalId(externalId: string, companyId: string): StoredUser | undefined {
    const id = this.byExternalId.get(lookupKey(companyId, externalId));
    return id === undefined ? undefined : this.byId.get(id)?.user;
  }

  list(companyId?: string): StoredUser[] {
    const out: StoredUser[] = [];
    for (const { user } of this.byId.values())
      if (companyId === undefined || user.companyId === companyId) out.push(user);
    return out;
  }

  /** Users of a company in creation order with their sequence numbers (cursor paging). */
  listWithSeq(companyId: string): { user: StoredUser; seq: number }[] {
    return [...this.byId.values()].filter((e) => e.user.companyId === companyId);
  }

  setExtension(id: string, urn: string, value: Record<string, unknown> | undefined): void {
    const entry = this.byId.get(id);
    if (!entry) throw SimHttpError.scim(404, `User ${id} not found`);
    const before = { ...entry.user.extensions };
    if (value === undefined) delete entry.user.extensions[urn];
    else entry.user.extensions[urn] = value;
    const { companyId } = entry.user;
    this.onChange?.({ kind: 'extension', companyId, id, urn, before, after: { ...entry.user.extensions } });
  }

  /**
   * Users of the company as `.search`, list and v4 filter reads see them: each as it was
   * `searchLagMs` ago (a user created since is not there yet, one deleted since still is), in
   * creation order. `ids` narrows the scan to users an index found by their current values;
   * users written within the lag are always considered, as their older values may match.
   */
  searchView(companyId: string, ids?: readonly string[]): SearchView[] {
    const lag = this.ctx.knobs.searchLagMs;
    const current = (id: string): SearchView | undefined => {
      const e = this.byId.get(id);
      return e && e.user.companyId === companyId ? { resource: e.user.resource, seq: e.seq } : undefined;
    };
    const scan = ids ?? this.listWithSeq(companyId).map((e) => e.user.resource.id);
    if (lag <= 0) {
      this.recent.clear();
      return scan
        .map(current)
        .filter((v): v is SearchView => v !== undefined)
        .sort((a, b) => a.seq - b.seq);
    }
    const cutoff = this.ctx.clock.now() - lag;
    const out = new Map<string, SearchView>();
    for (const id of scan) {
      if (this.recent.has(id)) continue;
      const v = current(id);
      if (v) out.set(id, v);
    }
    for (const [id, r] of this.recent) {
      let seen: Version | undefined;
      for (const v of r.versions) if (v.at <= cutoff) seen = v;
      // Only the newest state at or before the cutoff matters any more.
      if (seen) r.versions = r.versions.filter((v) => v.at >= seen.at);
      if (r.versions.length === 1 && seen) this.recent.delete(id);
      if (r.companyId !== companyId || !seen?.resource) continue;
      out.set(id, { resource: seen.resource, seq: r.seq });
    }
    return [...out.values()].sort((a, b) => a.seq - b.seq);
  }

  reset(): void {
    this.byId.clear();
    this.byUserName.clear();
    this.byEmployeeNumber.clear();
    this.byExternalId.clear();
    this.recent.clear();
    this.seq = 0;
  }

  /** Keeps the state search showed before this write while the search lag lasts. */
  private remember(
    id: string,
    companyId: string,
    seq: number,
    before: UserResource | undefined,
    after: UserResource | undefined,
  ): void {
    if (this.ctx.knobs.searchLagMs <= 0) return;
    let r = this.recent.get(id);
    if (!r) {
      r = { companyId, seq, versions: [{ at: Number.NEGATIVE_INFINITY, resource: before }] };
      this.recent.set(id, r);
    }
    r.versions.push({ at: this.ctx.clock.now(), resource: after });
  }

  /** userName taken in another company (knob foreignUserNames): userName is unique across all of Concur. */
  private isForeign(userName: string): boolean {
    const list = this.ctx.knobs.foreignUserNames;
    if (list.length === 0) return false;
    if (this.foreign?.list !== list) this.foreign = { list, names: new Set(list.map((n) => n.toLowerCase())) };
    return this.foreign.names.has(userName.toLowerCase());
  }

  private entry(id: string, companyId: string): Entry {
    const entry = this.byId.get(id);
    if (!entry || entry.user.companyId !== companyId) {
      throw SimHttpError.scim(404, `User ${id} not found`, {
        messages: [{ code: 'NOT_FOUND', message: `User ${id} not found`, type: 'error' }],
      });
    }
    return entry;
  }

  private build(id: string, body: unknown, companyId: string, previous: UserResource | undefined): UserResource {
    return buildUserResource(body, {
      id,
      companyId,
      now: this.ctx.clock.now(),
      baseUrl: this.ctx.baseUrl,
      previous,
      findUser: (mid) => {
        const m = this.byId.get(mid);
        return m && m.user.companyId === companyId ? m.user.resource : undefined;
      },
    });
  }

  private commit(entry: Entry, resource: UserResource): StoredUser {
    const before = entry.user.resource;
    this.assertUnique(resource, entry.user.companyId, before.id);
    if (resource.userName.toLowerCase() !== before.userName.toLowerCase() && this.isForeign(resource.userName))
      throw conflict('userName');
    this.unindex(entry.user);
    entry.user.resource = resource;
    this.index(entry.user);
    const { companyId } = entry.user;
    this.remember(before.id, companyId, entry.seq, before, resource);
    this.onChange?.({ kind: 'identity', companyId, id: before.id, before, after: resource });
    return entry.user;
  }

  private assertUnique(resource: UserResource, companyId: string, selfId: string | undefined): void {
    const taken = (map: Map<string, string>, key: string): boolean => {
      const owner = map.get(key);
      return owner !== undefined && owner !== selfId;
    };
    if (taken(this.byUserName, lookupKey(resource.userName))) throw conflict('userName');
    const ent = enterpriseOf(resource);
    if (
      typeof ent.employeeNumber === 'string' &&
      taken(this.byEmployeeNumber, lookupKey(companyId, ent.employeeNumber))
    ) {
      throw conflict('companyId,employeeNumber');
    }
    if (
      typeof resource.externalId === 'string' &&
      taken(this.byExternalId, lookupKey(companyId, resource.externalId))
    ) {
      throw conflict('companyId,externalId');
    }
  }

  private index(user: StoredUser): void {
    const r = user.resource;
    this.byUserName.set(lookupKey(r.userName), r.id);
    const emp = enterpriseOf(r).employeeNumber;
    if (typeof emp === 'string') this.byEmployeeNumber.set(lookupKey(user.companyId, emp), r.id);
    if (typeof r.externalId === 'string') this.byExternalId.set(lookupKey(user.companyId, r.externalId), r.id);
  }

  private unindex(user: StoredUser): void {
    const r = user.resource;
    this.byUserName.delete(lookupKey(r.userName));
    const emp = enterpriseOf(r).employeeNumber;
    if (typeof emp === 'string') this.byEmployeeNumber.delete(lookupKey(user.companyId, emp));
    if (typeof r.externalId === 'string') this.byExternalId.delete(lookupKey(user.companyId, r.externalId));
  }
}

export function createUserStore(ctx: SimContextBase): MemoryUserStore {
  return new MemoryUserStore(ctx);
}
