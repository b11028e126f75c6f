import { ProvError, type ErrorCode } from '../errors.ts';
import { CONCUR_ERROR_URN, oauthErrorSchema, scimErrorSchema, type ConcurMessage } from './schemas.ts';

/**
 * What the caller should do about a failed Concur call. Workers switch on `details.kind`
 * (or `code`); they never look at status codes themselves.
 */
export type ConcurErrorKind = 'rate_limited' | 'retryable' | 'conflict' | 'invalid' | 'auth' | 'not_found' | 'response';

const CODE_BY_KIND: Record<ConcurErrorKind, ErrorCode> = {
  rate_limited: 'PROV_ERR_RATE_LIMITED',
  retryable: 'PROV_ERR_RETRYABLE',
  conflict: 'PROV_ERR_CONFLICT',
  invalid: 'PROV_ERR_INVALID',
  auth: 'PROV_ERR_AUTH',
  not_found: 'PROV_ERR_NOT_FOUND',
  response: 'PROV_ERR_RESPONSE',
};

/** Error codes of network failures worth a retry (node and undici). */
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_ABORTED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ABORT_ERR',
]);

export interface ResponseFacts {
  method: string;
  /** Path only (no query string, no host): safe to log. */
  path: string;
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  correlationId: string | undefined;
  /** True for the OAuth token endpoint, whose 4xx all mean "credentials refused". */
  tokenEndpoint?: boolean;
}

export interface NetworkFacts {
  method: string;
  path: string;
  cause: unknown;
  correlationId?: string | undefined;
}

function headerValue(headers: ResponseFacts['headers'], name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date; 0 when absent, negative,
 * in the past or unreadable (the caller then uses its own backoff).
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number {
  if (value === undefined) return 0;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return 0;
  return Math.max(0, at - now);
}

interface ErrorBodyFacts {
  messages: ConcurMessage[];
  scimType: string | undefined;
  detail: string | undefined;
  schemaPath: string | undefined;
  oauthError: string | undefined;
  oauthCode: string | number | undefined;
  oauthDescription: string | undefined;
  oauthGeolocation: string | undefined;
}

function readErrorBody(body: unknown): ErrorBodyFacts {
  const scim = scimErrorSchema.safeParse(body);
  const oauth = oauthErrorSchema.safeParse(body);
  const messages = (scim.success ? scim.data[CONCUR_ERROR_URN]?.messages : undefined) ?? [];
  return {
    messages,
    scimType: scim.success ? scim.data.scimType : undefined,
    detail: scim.success ? scim.data.detail : undefined,
    schemaPath: messages.find((m) => m.schemaPath !== undefined)?.schemaPath,
    oauthError: oauth.success ? oauth.data.error : undefined,
    oauthCode: oauth.success ? oauth.data.code : undefined,
    oauthDescription: oauth.success ? oauth.data.error_description : undefined,
    oauthGeolocation: oauth.success ? oauth.data.geolocation : undefined,
  };
}

function kindForStatus(status: number, tokenEndpoint: boolean): ConcurErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 408 || status >= 500) return 'retryable';
  if (tokenEndpoint || status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  return 'invalid';
}

function compact(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(obj).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)),
  );
}

/** Turns a non-2xx Concur answer into a ProvError whose `details.kind` says what to do. */
export function classifyConcurResponse(facts: ResponseFacts, now: number = Date.now()): ProvError {
  const kind = kindForStatus(facts.statusCode, facts.tokenEndpoint === true);
  const body = readErrorBody(facts.body);
  const retryAfterMs =
    kind === 'rate_limited' ? parseRetryAfter(headerValue(facts.headers, 'retry-after'), now) : undefined;
  const reason =
    body.detail ??
    body.messages
      .map((m) => m.message)
      .filter(Boolean)
      .join('; ');
  const oauthReason = body.oauthError
    ? `${body.oauthError}${body.oauthDescription ? `: ${body.oauthDescription}` : ''}`
    : '';
  const why = reason || oauthReason;
  const message = `Concur ${facts.method} ${facts.path} answered ${facts.statusCode}${why ? `: ${why}` : ''}`;
  return new ProvError(CODE_BY_KIND[kind], message, {
    retryable: kind === 'rate_limited' || kind === 'retryable',
    statusCode: facts.statusCode,
    details: compact({
      kind,
      statusCode: facts.statusCode,
      method: facts.method,
      path: facts.path,
      correlationId: facts.correlationId,
      retryAfterMs,
      scimType: body.scimType,
      detail: body.detail,
      messages: body.messages,
      schemaPath: body.schemaPath,
      oauthError: body.oauthError,
      oauthCode: body.oauthCode,
      oauthGeolocation: body.oauthGeolocation,
    }),
  });
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // undici wraps socket failures; the interesting code may sit on the cause.
  const cause = (err as { cause?: unknown }).cause;
  return cause === err ? undefined : errorCode(cause);
}

/** A failure with no HTTP answer: network errors and timeouts are retryable, anything else is a bug. */
export function classifyNetworkError(facts: NetworkFacts): ProvError {
  const code = errorCode(facts.cause);
  const name = (facts.cause as { name?: unknown } | null)?.name;
  const aborted = name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED';
  const known = code !== undefined && RETRYABLE_NETWORK_CODES.has(code);
  const what = known || aborted ? (code ?? String(name)) : 'unexpected error';
  return new ProvError(
    known || aborted ? 'PROV_ERR_RETRYABLE' : 'PROV_ERR_INTERNAL',
    `Concur ${facts.method} ${facts.path} failed without an answer (${what})`,
    {
      retryable: known || aborted,
      cause: facts.cause,
      details: compact({
        kind: known || aborted ? 'retryable' : undefined,
        method: facts.method,
        path: facts.path,
        errorCode: code,
        aborted: aborted || undefined,
        correlationId: facts.correlationId,
      }),
    },
  );
}

/** The OAuth `code` of a token-endpoint refusal (108: bad or expired refresh token), or undefined. */
export function oauthCodeOf(err: unknown): number | undefined {
  const code = (err as { details?: { oauthCode?: unknown } } | null)?.details?.oauthCode;
  const n = typeof code === 'number' ? code : typeof code === 'string' ? Number(code) : Number.NaN;
  return Number.isInteger(n) ? n : undefined;
}

/**
 * Concur refuses to issue a token (every credential refused): processing waits for new
 * credentials instead of failing rows (docs/operations.md#concur-refuses-the-token).
 */
export function isTokenRefused(err: unknown): boolean {
  return (err as { details?: { tokenRefused?: unknown } } | null)?.details?.tokenRefused === true;
}

/** The kind of a ProvError made by this module (undefined for others). */
export function concurErrorKind(err: unknown): ConcurErrorKind | undefined {
  const kind = (err as { details?: { kind?: unknown } } | null)?.details?.kind;
  return typeof kind === 'string' && kind in CODE_BY_KIND ? (kind as ConcurErrorKind) : undefined;
}
