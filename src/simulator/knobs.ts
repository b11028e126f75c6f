import { z } from 'zod';

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
  /** Delay before Spend/Travel extensions of a provision are processed. */
  extensionDelayMs: z.number().int().min(0).default(200),
  /** Lifetime of issued access tokens. */
  tokenLifetimeS: z.number().int().min(1).default(3600),
  /** Lifetime of refresh tokens. */
  refreshTokenLifetimeS: z.number().int().min(1).default(180 * 24 * 3600),
  /** Provision requests still pending after this long (simulated clock) are failed. */
  provisionTimeoutMs: z.number().int().min(1).default(120 * 60 * 1000),
  /** Provision statuses older than this (simulated clock) answer 404. */
  statusRetentionMs: z.number().int().min(1).default(7 * 24 * 3600 * 1000),
  /** Share of event deliveries sent twice on purpose (at-least-once). */
  duplicateEventRate: z.number().min(0).max(1).default(0),
  /** When false, provisions never complete on their own (stay pending until the timeout). */
  processExtensions: z.boolean().default(true),
  /** Seed of every random choice (faults, jitter, ids are random UUIDs but fault choices are seeded). */
  seed: z.number().int().default(1),
});

export type Knobs = z.output<typeof knobsSchema>;
export type KnobsInput = z.input<typeof knobsSchema>;
export const knobsPatchSchema = knobsSchema.partial().strict();
export type KnobsPatch = z.input<typeof knobsPatchSchema>;

export function resolveKnobs(input: KnobsInput = {}): Knobs {
  return knobsSchema.parse(input);
}
