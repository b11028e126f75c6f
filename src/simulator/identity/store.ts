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
  private seq = 0;

  constructor(private readonly ctx: SimContextBase) {}

  create(body: unknown, companyId: string): StoredUser {
    const id = randomUUID();
    const resource = this.build(id, body, companyId, undefined);
    this.assertUnique(resource, companyId, undefined);
    const user: StoredUser = { resource, companyId, extensions: {} };
    this.seq += 1;
    this.byId.set(id, { user, seq: this.seq });
    this.index(user);
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

  sequenceOf(id: string): number | undefined {
    return this.byId.get(id)?.seq;
  }

  setExtension(id: string, urn: string, value: Record<string, unknown> | undefined): void {
    const entry = this.byId.get(id);
    if (!entry) throw SimHttpError.scim(404, `User ${id} not found`);
    if (value === undefined) delete entry.user.extensions[urn];
    else entry.user.extensions[urn] = value;
  }

  reset(): void {
    this.byId.clear();
    this.byUserName.clear();
    this.byEmployeeNumber.clear();
    this.byExternalId.clear();
    this.seq = 0;
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
    this.assertUnique(resource, entry.user.companyId, entry.user.resource.id);
    this.unindex(entry.user);
    entry.user.resource = resource;
    this.index(entry.user);
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
