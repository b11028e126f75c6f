/**
 * One error base with stable string codes. Match on `code`, never on `instanceof`
 * (errors cross process boundaries through job failure reasons and the ledger).
 * Every code has a row in docs/errors.md's table; a unit test keeps the two in step.
 */
export const ERROR_CODES = {
  PROV_ERR_CONFIG: 'Configuration is invalid (the message lists each bad variable).',
  PROV_ERR_INPUT: 'A drop file or row could not be read or failed validation (file, row and field named).',
  PROV_ERR_RATE_LIMITED: 'Concur answered 429; retry after `retryAfterMs`.',
  PROV_ERR_RETRYABLE:
    'Transient Concur failure (408, 5xx, network error, timeout); retried with backoff, per call and then per job.',
  PROV_ERR_CONFLICT: 'Concur answered 409: a uniqueness conflict (userName or employeeNumber already taken).',
  PROV_ERR_IDENTITY_CONFLICT:
    "The row's userName and employeeNumber point at different Concur people, or would change a person's key without an explicit previousEmployeeNumber / previousUserName; nothing was written (both people named).",
  PROV_ERR_USERNAME_TAKEN:
    "Concur refuses the row's userName as taken (409), yet no user of this company holds it, even after search had time to catch up: userName is unique across all of SAP Concur, so another company holds it.",
  PROV_ERR_INVALID: 'Concur rejected the request (other 4xx) with its messages and schemaPath.',
  PROV_ERR_AUTH:
    'Concur refused our credentials (every grant refused: processing pauses) or a freshly renewed token (401 twice: the job is retried).',
  PROV_ERR_UNTRUSTED_HOST:
    'A token or API target (a geolocation stored in Redis, named by a token answer or by code 16) is not https://*.concursolutions.com, CONCUR_BASE_URL nor CONCUR_TRUSTED_ORIGINS: nothing is sent there and processing pauses.',
  PROV_ERR_TOKEN_KEY:
    'The Concur token in Redis does not open with TOKEN_ENCRYPTION_KEY (another key, or altered): processing pauses until the key is right or the record is deleted.',
  PROV_ERR_STATUS_TIMEOUT:
    'Concur gave no final status for the provision within STATUS_DEADLINE_MS of its submission (or its status could not be read that long); the row ends `timed_out`.',
  PROV_ERR_NOT_FOUND: 'The Concur resource does not exist (404).',
  PROV_ERR_RESPONSE: 'Concur answered with a body we could not parse or that lacks a required field.',
  PROV_ERR_REDIS: 'Redis is unreachable or answered with an error.',
  PROV_ERR_REDIS_NOT_DURABLE:
    "Redis may lose or evict the pipeline's keys (maxmemory-policy other than noeviction, or neither AOF nor RDB snapshots) and REQUIRE_DURABLE_REDIS=true.",
  PROV_ERR_LEDGER: 'The ledger refused a transition (unknown drop or row, or an illegal state change).',
  PROV_ERR_SHUTDOWN: 'A shutdown step failed or the shutdown deadline passed.',
  PROV_ERR_INTERNAL: 'A bug: an invariant did not hold.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ProvErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  statusCode?: number;
  details?: Record<string, unknown>;
}

export class ProvError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly statusCode: number | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ProvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProvError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.statusCode = options.statusCode;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.statusCode === undefined ? {} : { statusCode: this.statusCode }),
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
    };
  }
}

export function isProvError(err: unknown, code?: ErrorCode): err is ProvError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== 'string' || !(c in ERROR_CODES)) return false;
  return code === undefined || c === code;
}
