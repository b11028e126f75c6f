import type { Logger } from '../shared/logger.ts';
import type { SimClock } from './clock.ts';
import type { Knobs } from './knobs.ts';
import type { SeededRandom } from './random.ts';
import type { SimStats } from './stats.ts';

/** The one app and one company the simulator accepts (SIM_* variables / flags). */
export interface SimTenant {
  clientId: string;
  clientSecret: string;
  companyId: string;
  requestToken: string;
}

/** API families: each has its own latency/fault handling and (identity, ups) rate limit. */
export type ApiFamily = 'oauth' | 'identity' | 'ups' | 'events' | 'admin';

/**
 * Everything route modules share. Stores are added by their modules' `create*` functions in
 * app.ts; a route module receives the whole context and uses only what it needs.
 */
export interface SimContextBase {
  tenant: SimTenant;
  knobs: Knobs;
  clock: SimClock;
  random: SeededRandom;
  stats: SimStats;
  log: Logger | undefined;
  /** Base URL the server answers on (set once listening); used for geolocation, meta.location, statusUrl. */
  baseUrl: string;
}

/** A stored SCIM user (core + enterprise + sap), plus its Spend/Travel extensions keyed by URN. */
export interface StoredUser {
  /** The full identity resource as returned by Identity v4.1 GET (schemas, id, meta, ...). */
  resource: Record<string, unknown> & { id: string; userName: string };
  companyId: string;
  /** Spend/Travel extension values keyed by schema URN, as last applied by UPS. */
  extensions: Record<string, Record<string, unknown>>;
}

/** Identity store (owned by src/simulator/identity). Throws SimHttpError with Concur's status and body. */
export interface UserStore {
  /** Validates and creates (POST semantics: uniqueness, defaults, companyId forced to the caller's). */
  create(body: unknown, companyId: string): StoredUser;
  get(id: string, companyId: string): StoredUser;
  /** PUT semantics: full replace; missing fields erased or defaulted; companyId immutable. */
  replace(id: string, body: unknown, companyId: string): StoredUser;
  /** SCIM PatchOp. Extension paths (spend/travel URNs) are NOT handled here: see UPS. */
  patch(id: string, patchOp: unknown, companyId: string): StoredUser;
  remove(id: string, companyId: string): void;
  findByEmployeeNumber(employeeNumber: string, companyId: string): StoredUser | undefined;
  findByUserName(userName: string): StoredUser | undefined;
  /** All users of a company in creation order (for listing, search, /_sim/state). */
  list(companyId?: string): StoredUser[];
  setExtension(id: string, urn: string, value: Record<string, unknown> | undefined): void;
  reset(): void;
}

/** Provision store + engine (owned by src/simulator/ups). */
export interface ProvisionStore {
  /** Every provision as its full detailed status body (with operations), for /_sim/state. */
  list(): unknown[];
  reset(): void;
}

/** Event subscriptions + delivery (owned by src/simulator/ess). */
export interface EventHub {
  reset(): void;
  /** Stops retry timers so the server can close. */
  close(): Promise<void>;
}

/** What a valid bearer token stands for. */
export interface TokenInfo {
  kind: 'company' | 'app';
  /** The company for company tokens; undefined for app tokens. */
  companyId: string | undefined;
  clientId: string;
  expiresAt: number;
}

/** Bearer-token checks (owned by src/simulator/oauth). Throw SimHttpError 401 when invalid or expired. */
export interface AuthGate {
  verify(authorizationHeader: string | undefined, kind: 'company' | 'app' | 'any'): TokenInfo;
  reset(): void;
}

export interface SimContext extends SimContextBase {
  auth: AuthGate;
  users: UserStore;
  provisions: ProvisionStore;
  events: EventHub;
}
