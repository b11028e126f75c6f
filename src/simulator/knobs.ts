import { z } from 'zod';
import { SPEND_ROLE_CATALOGUE } from './ups/role-codes.ts';

/**
 * Run-time knobs of the simulator. Settable by flags, `SIM_*` env variables, and
 * `PATCH /_sim/config` (partial updates). Rates are fractions 0..1; `*Rps` 0 = unlimited.
 */
export const knobsSchema = z.object({
  /** Fixed latency added to every API response (not /_sim). */
  latencyMs: z.number().int().min(0).default(0),
  /** Uniform random extra latency in [0, jitterMs). */
  jitterMs: z.number().int().min(0).default(0),
  /** Token-bucket limit for Identity (v4, v4.1) requests per second; 0 = unlimited. */
  identityRps: z.number().min(0).default(0),
  /** Token-bucket limit for UPS (users, bulk, status, read-back) requests per second; 0 = unlimited. */
  upsRps: z.number().min(0).default(0),
  /** Token-bucket burst size as seconds of rate (bucket capacity = rps * burstSeconds, at least 1). */
  burstSeconds: z.number().min(0).default(1),
  /** Share of API requests answered 503 (SCIM error) without being applied. */
  errorRate: z.number().min(0).max(1).default(0),
  /** Share of API requests that never get an answer (the socket stays open). */
  hangRate: z.number().min(0).max(1).default(0),
  /** Share of API requests whose connection is reset without an answer. */
  resetRate: z.number().min(0).max(1).default(0),
  /**
   * Share of writes (Identity POST/PATCH/PUT, UPS POST/PATCH/PUT /Users and POST /Bulk) that are
   * applied and then answered 502 or 504, or whose connection is reset: the change stays, the
   * answer is lost.
   */
  applyThenFailRate: z.number().min(0).max(1).default(0),
  /**
   * `.search`, the v4.1 list and v4 `filter` reads see a write only this long after it (Concur:
   * search "may be up to a few minutes behind"); `GET /Users/{id}` sees it at once.
   */
  searchLagMs: z.number().int().min(0).default(0),
  /**
   * userNames held by another company (userName is unique across all of Concur): invisible to this
   * company's search and GET, and a create or rename to one of them answers 409.
   */
  foreignUserNames: z.array(z.string().min(1)).default([]),
  /** Delay before Spend/Travel extensions of a provision are processed. */
  extensionDelayMs: z.number().int().min(0).default(200),
  /** Lifetime of issued access tokens. */
  tokenLifetimeS: z.number().int().min(1).default(3600),
  /**
   * How long the company request token works after the simulator starts (or resets), on the
   * simulated clock; Concur: 24 h. After it the password grant is refused (code 5).
   */
  requestTokenLifetimeS: z
    .number()
    .int()
    .min(1)
    .default(24 * 3600),
  /**
   * The company's data center moved to this base URL (empty: it did not). Token requests that
   * arrive at another host get Concur's code 16 "user lives elsewhere" with this `geolocation`,
   * and API calls there answer 401; tokens issued here carry it as their geolocation.
   */
  relocateTo: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  /** Lifetime of refresh tokens. */
  refreshTokenLifetimeS: z
    .number()
    .int()
    .min(1)
    .default(180 * 24 * 3600),
  /** Provision requests still pending after this long (simulated clock) are failed. */
  provisionTimeoutMs: z
    .number()
    .int()
    .min(1)
    .default(120 * 60 * 1000),
  /** Provision statuses older than this (simulated clock) answer 404. */
  statusRetentionMs: z
    .number()
    .int()
    .min(1)
    .default(7 * 24 * 3600 * 1000),
  /** Share of event deliveries sent twice on purpose (at-least-once). */
  duplicateEventRate: z.number().min(0).max(1).default(0),
  /** When false, provisions never complete on their own (stay pending until the timeout). */
  processExtensions: z.boolean().default(true),
  /**
   * When true, every provision status read (`GET /provisions/{id}/status`) answers 401 "Invalid
   * token", as for an app that lost the scope: the provisions go on, their status cannot be read.
   */
  statusUnauthorized: z.boolean().default(false),
  /** When true, the token endpoint refuses the app (`access_denied`, code 59 "client disabled"). */
  clientDisabled: z.boolean().default(false),
  /**
   * When false the company is not enabled for the User Provisioning Service: every UPS route (users,
   * Bulk, status, Spend/Travel read-back, role codes, UPS discovery) answers 403.
   */
  upsEnabled: z.boolean().default(true),
  /**
   * When false the company has no Travel: UPS discovery leaves out the Travel extension and the
   * Travel read-back answers 403.
   */
  travelEnabled: z.boolean().default(true),
  /** Shifts the `Date` header of every response by this much: Concur's clock and ours disagree. */
  dateSkewMs: z.number().int().default(0),
  /** When true, every refresh grant issues a new refresh token and the old one stops working. */
  rotateRefreshTokens: z.boolean().default(true),
  /** Per-family fixed latency overriding `latencyMs` (jitter still applies), e.g. `{ "ups": 50 }`. */
  latencyByFamily: z
    .object({
      oauth: z.number().int().min(0),
      identity: z.number().int().min(0),
      ups: z.number().int().min(0),
      events: z.number().int().min(0),
    })
    .partial()
    .strict()
    .default({}),
  /** Seed of every random choice (faults, jitter, ids are random UUIDs but fault choices are seeded). */
  seed: z.number().int().default(1),
  /**
   * Spend role codes UPS accepts in `spend:2.0:Role` `roles[].roleName`; any other code is an
   * extension error ("Invalid Role"). Default: Concur's 96 published codes (ups/role-codes.ts).
   */
  spendRoleCodes: z.array(z.string()).default(() => SPEND_ROLE_CATALOGUE.map((r) => r.roleCode)),
  /**
   * Spend `customData` fields backed by a list, by field id (`custom1`..`custom22`, `orgUnit1`..`orgUnit6`):
   * a value outside the field's list fails with "Invalid List Item". Fields not named here are free text.
   * Default: `custom3` is a cost-center list `CC100`..`CC500`.
   */
  spendListItems: z
    .record(z.string(), z.array(z.string()))
    .default({ custom3: ['CC100', 'CC200', 'CC300', 'CC400', 'CC500'] }),
  /**
   * Names of the lists behind `spendListItems`, by field id, as the List v4 API (`/list/v4/lists`)
   * serves them; a field without a name is served as a list named after the field. Default:
   * `custom3` is the list "Cost Centers".
   */
  spendListNames: z.record(z.string(), z.string()).default({ custom3: 'Cost Centers' }),
  /**
   * Ledger codes of the company: a spend `ledgerCode` outside them fails with "Invalid Value", as
   * Concur refuses a ledger it does not know.
   */
  spendLedgerCodes: z.array(z.string()).default(['DEFAULT', 'US', 'EU', 'CORP']),
  /**
   * Travel rule classes by name (Concur's Travel configuration): a `ruleClass.name` outside the
   * list fails with "Rule class 'X' is invalid", as a real load does. Empty: any name is accepted.
   */
  travelRuleClasses: z.array(z.string()).default([]),
  /**
   * Nodes of the approval / role hierarchy (list item codes joined with `-`, e.g. `US-WEST`): an
   * approval limit or role group outside it fails to resolve, as a real load does. Empty: not checked.
   */
  hierarchyNodes: z.array(z.string()).default([]),
  /** First retry delay of an ESS event delivery; doubles per attempt (compressed from Concur's real pacing). */
  eventRetryBaseMs: z.number().int().min(1).default(100),
  /** Longest delay between two delivery attempts of one event. */
  eventRetryMaxMs: z.number().int().min(1).default(5000),
  /** An undelivered event is dropped once this old (simulated clock); Concur keeps events 72 h. */
  eventRetentionMs: z
    .number()
    .int()
    .min(1)
    .default(72 * 3600 * 1000),
  /** One delivery attempt fails (and is retried) when the receiver has not answered within this. */
  eventTimeoutMs: z.number().int().min(1).default(5000),
});

export type Knobs = z.output<typeof knobsSchema>;
export type KnobsInput = z.input<typeof knobsSchema>;
export const knobsPatchSchema = knobsSchema.partial().strict();
export type KnobsPatch = z.input<typeof knobsPatchSchema>;

export function resolveKnobs(input: KnobsInput = {}): Knobs {
  return knobsSchema.parse(input);
}
