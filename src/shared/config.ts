import { z } from 'zod';
import { ProvError } from './errors.ts';
import { decodeTokenKey } from './concur/token-seal.ts';

/** Defaults that make every command work against a local simulator out of the box. */
export const SIM_DEFAULTS = {
  port: 4010,
  clientId: 'sim-client-id',
  clientSecret: 'sim-client-secret',
  companyId: 'aa076ada-80a9-4f57-8e98-9300b1c3171d',
  requestToken: 'sim-request-token',
} as const;

const intFrom = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const numFrom = (def: number, min = 0) => z.coerce.number().min(min).default(def);
/** `custom3=Cost Centers; orgUnit1=Org Units`: spend custom fields and the Concur list behind each. */
const LIST_FIELD_ID = /^(custom([1-9]|1\d|2[0-2])|orgUnit[1-6])$/;
const listFields = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const out: Record<string, string> = {};
    for (const pair of raw.split(';')) {
      if (pair.trim() === '') continue;
      const eq = pair.indexOf('=');
      const field = pair.slice(0, Math.max(eq, 0)).trim();
      const list = pair.slice(eq + 1).trim();
      if (eq < 0 || !LIST_FIELD_ID.test(field) || list === '') {
        ctx.addIssue({
          code: 'custom',
          message: `'${pair.trim()}' is not field=List name with field custom1..custom22 or orgUnit1..orgUnit6`,
        });
        return z.NEVER;
      }
      out[field] = list;
    }
    return out;
  });
/** A comma-separated list; unset or empty: undefined (not configured). */
const optionalList = z
  .string()
  .optional()
  .transform((raw) => {
    const items = (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    return items.length > 0 ? items : undefined;
  });
/** `auto` (the adaptive limiter finds Concur's rate) or a fixed rate per second (0 = no limit). */
const rateSetting = z
  .preprocess(
    (v) => (typeof v === 'string' ? v.trim().toLowerCase() || 'auto' : v),
    z.union([z.literal('auto'), z.coerce.number().min(0)], {
      error: 'must be auto or a number of calls per second (0 = no limit)',
    }),
  )
  .default('auto');
export type RateSetting = 'auto' | number;
const optionalString = z
  .string()
  .transform((v) => (v.trim() === '' ? undefined : v))
  .optional();

/** OTLP over HTTP only: gRPC would pull in a second transport for the same spans. */
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], {
  error: 'http/protobuf or http/json (OTLP over gRPC is not supported)',
});

/**
 * The one environment schema. Each key is documented in docs/configuration.md
 * (a unit test checks the table against this schema's keys).
 */
export const envSchema = z
  .object({
    // --- pipeline ---
    REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z.string().min(1).default('{prov}'),
    CONCUR_BASE_URL: z.url().default(`http://127.0.0.1:${SIM_DEFAULTS.port}`),
    CONCUR_CLIENT_ID: z.string().min(1).default(SIM_DEFAULTS.clientId),
    CONCUR_CLIENT_SECRET: z.string().min(1).default(SIM_DEFAULTS.clientSecret),
    CONCUR_COMPANY_ID: z.string().min(1).default(SIM_DEFAULTS.companyId),
    CONCUR_REQUEST_TOKEN: optionalString.default(SIM_DEFAULTS.requestToken),
    CONCUR_REFRESH_TOKEN: optionalString,
    CONCUR_TIMEOUT_MS: intFrom(30_000, 1),
    /** Origins trusted as token and API targets beside https://*.concursolutions.com and CONCUR_BASE_URL's. */
    CONCUR_TRUSTED_ORIGINS: optionalList.pipe(
      z.array(z.url({ protocol: /^https?$/, error: 'must be http(s) origins, comma-separated' })).optional(),
    ),
    /** Seals the Concur token in Redis (docs/security.md#the-concur-token-in-redis): 32 bytes, base64 or hex. */
    TOKEN_ENCRYPTION_KEY: optionalString.refine(
      (v) => v === undefined || decodeTokenKey(v) !== undefined,
      'must be 32 random bytes as base64 (44 characters) or hex (64), e.g. `openssl rand -base64 32`',
    ),
    /** Refuse to run on a Redis that may evict or lose keys (docs/operations.md#redis-durability). */
    REQUIRE_DURABLE_REDIS: z.stringbool().default(false),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SHUTDOWN_DEADLINE_MS: intFrom(30_000, 1),

    // --- identity stage ---
    /** The HR key a row is matched on (docs/matching.md). */
    MATCH_ON: z.enum(['employeeNumber', 'userName']).default('employeeNumber'),
    IDENTITY_MAX_RPS: rateSetting,
    IDENTITY_RPS_CEILING: numFrom(100, 1),
    IDENTITY_CONCURRENCY: intFrom(8, 1),
    IDENTITY_RETRY_ATTEMPTS: intFrom(6, 1),
    CONFLICT_RESOLVE_MAX_MS: intFrom(300_000),
    /** How long each person's last applied as-of is kept after their last write (0 = for ever). */
    PERSON_AS_OF_TTL_DAYS: intFrom(400),
    /** How often an identity worker looks for open rows no job will ever move (0 = never). */
    IDENTITY_REPAIR_INTERVAL_MS: intFrom(30_000),
    /** How often an identity worker compacts finished drops in the ledger (0 = never). */
    LEDGER_COMPACT_INTERVAL_MS: intFrom(10_000),

    // --- simulator ---
    SIM_PORT: intFrom(SIM_DEFAULTS.port, 0),
    SIM_HOST: z.string().default('127.0.0.1'),
    SIM_CLIENT_ID: z.string().min(1).default(SIM_DEFAULTS.clientId),
    SIM_CLIENT_SECRET: z.string().min(1).default(SIM_DEFAULTS.clientSecret),
    SIM_COMPANY_ID: z.string().min(1).default(SIM_DEFAULTS.companyId),
    SIM_REQUEST_TOKEN: z.string().min(1).default(SIM_DEFAULTS.requestToken),
    SIM_LATENCY_MS: intFrom(0),
    SIM_JITTER_MS: intFrom(0),
    SIM_IDENTITY_RPS: numFrom(0),
    SIM_UPS_RPS: numFrom(0),
    SIM_ERROR_RATE: numFrom(0).pipe(z.number().max(1)),
    SIM_HANG_RATE: numFrom(0).pipe(z.number().max(1)),
    SIM_RESET_RATE: numFrom(0).pipe(z.number().max(1)),
    SIM_EXTENSION_DELAY_MS: intFrom(200),
    SIM_TOKEN_LIFETIME_S: intFrom(3600, 1),
    SIM_SEED: intFrom(1),
    SIM_APPLY_THEN_FAIL_RATE: numFrom(0).pipe(z.number().max(1)),
    SIM_SEARCH_LAG_MS: intFrom(0),
    SIM_FOREIGN_USER_NAMES: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    SIM_REQUEST_TOKEN_LIFETIME_S: intFrom(24 * 3600, 1),
    SIM_RELOCATE_TO: z.union([z.literal(''), z.url()]).default(''),

    // --- extension and status stages ---
    EXTENSION_LINGER_MS: intFrom(2_000),
    EXTENSION_BATCH_MAX_OPS: intFrom(100, 1).pipe(z.number().max(100)),
    EXTENSION_BATCH_MAX_BYTES: intFrom(400 * 1024, 1024).pipe(z.number().max(400 * 1024)),
    EXTENSION_CONCURRENCY: intFrom(4, 1),
    EXTENSION_MAX_RETRIES: intFrom(5),
    EXTENSION_SWEEP_AFTER_MS: intFrom(120_000, 1),
    UPS_MAX_RPS: rateSetting,
    UPS_RPS_CEILING: numFrom(25, 1),
    STATUS_FIRST_DELAY_MS: intFrom(5_000),
    STATUS_MAX_DELAY_MS: intFrom(300_000, 1),
    STATUS_DEADLINE_MS: intFrom(3 * 3600 * 1000, 1),
    STATUS_CONCURRENCY: intFrom(8, 1),
    /** How often a status worker looks for provisions whose status check is gone (0 = never). */
    STATUS_SWEEP_INTERVAL_MS: intFrom(60_000),
    WEBHOOK_PUBLIC_KEY: optionalString,
    WEBHOOK_PUBLIC_KEY_FILE: optionalString,
    WEBHOOK_EVENT_TTL_MS: intFrom(4 * 24 * 3600 * 1000, 1),
    /** Concur retries a delivery for 72 h; older events (a replay) are refused, with 15 min of clock skew. */
    WEBHOOK_MAX_AGE_MS: intFrom(72 * 3600 * 1000 + 15 * 60 * 1000, 1),

    // --- server, metrics, watch folder ---
    /** The server's base URL as Concur and people reach it; the ESS webhook is PUBLIC_URL/webhooks/concur. */
    PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    // --- notifications (docs/operations.md#notifications) ---
    /** POSTed a JSON event per drop event (held, braked, paused, complete). Holds a secret: the Secret. */
    NOTIFY_WEBHOOK_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    /** A Slack incoming webhook: the same events as messages. */
    NOTIFY_SLACK_WEBHOOK_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    NOTIFY_ATTEMPTS: intFrom(10, 1),
    NOTIFY_RETRY_DELAY_MS: intFrom(2_000, 10),
    NOTIFY_POLL_MS: intFrom(2_000, 50),
    NOTIFY_TIMEOUT_MS: intFrom(10_000, 100),

    PORT: intFrom(3000, 0),
    SERVER_HOST: z.string().default('127.0.0.1'),
    SERVER_HEADER_TIMEOUT_MS: intFrom(20_000, 100),
    SERVER_REQUEST_TIMEOUT_MS: intFrom(600_000, 100),
    /** Whose X-Forwarded-For to believe: `true`, or addresses/CIDRs of the proxies (comma-separated). */
    SERVER_TRUST_PROXY: optionalString.transform((v) => (v === 'true' ? true : v === 'false' ? undefined : v)),
    DASHBOARD_USER: optionalString,
    DASHBOARD_PASSWORD: optionalString.refine(
      (v) => v === undefined || [...v].length >= 12,
      'must be at least 12 characters (docs/security.md)',
    ),
    DASHBOARD_TOKEN: optionalString,
    DASHBOARD_INSECURE: z.stringbool().default(false),
    DASHBOARD_READ_ONLY: z.stringbool().default(false),
    METRICS_TOKEN: optionalString,
    METRICS_FLUSH_MS: intFrom(5_000, 100),
    UPLOAD_MAX_BYTES: intFrom(100 * 1024 * 1024, 1),
    WATCH_POLL_MS: intFrom(1_000, 50),

    // --- what the plan checks against Concur (docs/safety.md#what-the-plan-predicts) ---
    /** Spend custom fields backed by a Concur list, and the list's name or id. */
    CONCUR_LIST_FIELDS: listFields,
    /** The company's ledger codes (Concur has no API that lists them). */
    CONCUR_LEDGER_CODES: optionalList,

    // --- safety guards (docs/safety.md) ---
    MAX_DEACTIVATIONS: intFrom(500),
    MAX_DEACTIVATION_PERCENT: numFrom(20).pipe(z.number().max(100)),
    MAX_FAILURE_PERCENT: numFrom(50).pipe(z.number().max(100)),
    MAX_CONFLICTS: intFrom(20),
    MAX_CONFLICT_PERCENT: numFrom(5).pipe(z.number().max(100)),
    GUARD_MIN_ROWS: intFrom(50, 1),
    MAX_DROP_ROWS: intFrom(1_000_000, 1),
    MAX_INVALID_PERCENT: numFrom(50).pipe(z.number().max(100)),

    // --- worker crash recovery ---
    WORKER_LOCK_MS: intFrom(60_000, 1_000),

    // --- health endpoint of the workers and the watcher (docs/operations.md#health-endpoint) ---
    HEALTH_PORT: intFrom(0, 0),
    HEALTH_HOST: z.string().min(1).default('127.0.0.1'),

    // --- traces: the standard OpenTelemetry variables we honour (docs/operations.md#traces) ---
    OTEL_SDK_DISABLED: z.stringbool().default(false),
    OTEL_TRACES_EXPORTER: optionalString.pipe(z.enum(['otlp', 'none']).optional()),
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.url().optional()),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.pipe(z.url().optional()),
    OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.default('http/protobuf'),
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: optionalString.pipe(otlpProtocol.optional()),
    OTEL_EXPORTER_OTLP_HEADERS: optionalString,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: optionalString,
    OTEL_SERVICE_NAME: optionalString,
    OTEL_RESOURCE_ATTRIBUTES: optionalString,
    OTEL_TRACES_SAMPLER: z
      .enum([
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ])
      .default('parentbased_always_on'),
    OTEL_TRACES_SAMPLER_ARG: optionalString.pipe(z.coerce.number<string | undefined>().min(0).max(1).optional()),
  })
  .superRefine((env, ctx) => {
    // Anywhere but a simulator on this machine the token holds real access to the company.
    if (
      env.TOKEN_ENCRYPTION_KEY === undefined &&
      URL.canParse(env.CONCUR_BASE_URL) &&
      !isLocalUrl(env.CONCUR_BASE_URL)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['TOKEN_ENCRYPTION_KEY'],
        message: `is required when CONCUR_BASE_URL is not on this machine (${new URL(env.CONCUR_BASE_URL).origin}): 32 random bytes as base64, e.g. \`openssl rand -base64 32\` (docs/security.md)`,
      });
    }
    // On a cluster every multi-key script needs its keys in one slot: the prefix must hold a hash tag
    // (Redis hashes only what is between the first `{` and the next `}` when that is not empty).
    if (isClusterUrl(env.REDIS_URL) && !/^[^{]*\{[^}]+\}/.test(env.QUEUE_PREFIX)) {
      ctx.addIssue({
        code: 'custom',
        path: ['QUEUE_PREFIX'],
        message: `must contain a hash tag such as {prov} when REDIS_URL is a cluster (got "${env.QUEUE_PREFIX}")`,
      });
    }
  });

/** A URL on this machine (the simulator a demo or a test starts). */
export function isLocalUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const host = new URL(url).hostname;
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `redis+cluster://`, `rediss+cluster://`, or several comma-separated hosts (see redis.ts). */
function isClusterUrl(url: string): boolean {
  const match = /^rediss?(\+cluster)?:\/\/(?:.*@)?([^/]*)/.exec(url);
  return match !== null && (match[1] !== undefined || (match[2] ?? '').includes(','));
}

export type Config = z.output<typeof envSchema>;

/** Reads and validates configuration once. Throws PROV_ERR_CONFIG naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ProvError('PROV_ERR_CONFIG', `Invalid configuration:\n${lines.join('\n')}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return parsed.data;
}

/** The keys of the env schema, for docs/configuration.md and its check. */
export function configKeys(): string[] {
  return Object.keys(envSchema.shape);
}
