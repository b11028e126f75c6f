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
export type ApiFamily = 'oauth' | 'identity' | 'ups' | 'lists' | 'events' | 'admin';

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

/**
 * Identity store (owned by src/simulator/identity; implementation: identity/store.ts).
 * Throws SimHttpError with Concur's status and body: 400 (all validation messages, scimType
 * invalidValue or mutability), 404 unknown id or other company, 409 uniqueness. Returned
 * StoredUser objects are live (later writes replace `resource`). Bodies may carry Spend/Travel
 * URNs: they are ignored here (use setExtension). Lookups are case-insensitive.
 */
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
  /** Sets (undefined: deletes) one extension; does not touch the identity resource or meta.version. 404 if unknown id. */
  setExtension(id: string, urn: string, value: Record<string, unknown> | undefined): void;
  reset(): void;
}

/** Provision store + engine (owned by src/simulator/ups). */
export interface ProvisionStore {
  /** Every provision as its full detailed status body (with operations), for /_sim/state. */
  list(): unknown[];
  reset(): void;
  /** Stops processing and sweeper timers so the server can close. */
  close(): Promise<void>;
}

/** An event to deliver to matching ESS subscriptions (the hub adds id, timeStamp and the envelope). */
export interface HubEvent {
  topic: string;
  eventType: string;
  /** Defaults to the event id. */
  subtopic?: string;
  companyId: string;
  /** Sent as `correlationId` and the `Concur-Correlationid` header. */
  correlationId: string;
  facts: Record<string, unknown>;
}

/** Event subscriptions + delivery (owned by src/simulator/ess). */
export interface EventHub {
  /** Queues delivery of the event to every subscription whose topic and filter match. */
  publish(event: HubEvent): void;
  /** PEM (SPKI) of the key that signs deliveries (`Concur-Signature`); also served at GET /_sim/public-key. */
  readonly publicKeyPem: string;
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

/**
 * Bearer-token checks (owned by src/simulator/oauth). Throw SimHttpError 401 when missing,
 * unknown or expired; 403 when the token is valid but of the wrong kind (app token on Identity).
 */
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
