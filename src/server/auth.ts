import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ProvError } from '../shared/errors.ts';
import type { Actor } from '../shared/ledger/decisions.ts';

export interface AuthSettings {
  user?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
  /** Accepted on /metrics only (besides the dashboard credentials). */
  metricsToken?: string | undefined;
  /** No credentials at all: every request passes (local use). */
  insecure?: boolean;
}

/** Paths that never ask for credentials: probes, and the webhook (it verifies signatures itself). */
export const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/webhooks/concur']);

/** DASHBOARD_PASSWORD is refused below this length (docs/security.md). */
export const MIN_PASSWORD_CHARS = 12;
/** Failed logins one client may make per window before it is refused with 429 until the window ends. */
export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_WINDOW_MS = 15 * 60_000;
/** Clients remembered at once (the oldest is forgotten first), so a flood of addresses cannot grow memory. */
const LOGIN_CLIENTS_KEPT = 10_000;

/**
 * Failed logins per client address. In memory: each server process throttles on its own (behind a
 * proxy, set SERVER_TRUST_PROXY so the address is the client's, not the proxy's).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly allowed = LOGIN_FAILURES_ALLOWED,
    private readonly windowMs = LOGIN_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `client` may try again, or 0 when it may try now. */
  blockedFor(client: string): number {
    const f = this.failures.get(client);
    if (!f) return 0;
    const left = f.since + this.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(client);
      return 0;
    }
    return f.count >= this.allowed ? left : 0;
  }

  fail(client: string): void {
    const f = this.failures.get(client);
    if (f && f.since + this.windowMs > this.now()) {
      f.count += 1;
      return;
    }
    this.failures.delete(client);
    if (this.failures.size >= LOGIN_CLIENTS_KEPT) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(client, { count: 1, since: this.now() });
  }

  succeed(client: string): void {
    this.failures.delete(client);
  }
}

/**
 * Hashing both sides first gives equal-length buffers, so `timingSafeEqual` compares in constant
 * time and the length of the secret does not leak either.
 */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function hasCredentials(s: AuthSettings): boolean {
  return (s.user !== undefined && s.password !== undefined) || s.token !== undefined;
}

/**
 * Fails unless credentials are configured or insecure mode was asked for explicitly, and refuses
 * a dashboard password shorter than MIN_PASSWORD_CHARS.
 */
export function assertAuthConfigured(s: AuthSettings): void {
  if (s.password !== undefined && [...s.password].length < MIN_PASSWORD_CHARS) {
    throw new ProvError(
      'PROV_ERR_CONFIG',
      `Invalid configuration:\n  DASHBOARD_PASSWORD: must be at least ${MIN_PASSWORD_CHARS} characters`,
    );
  }
  if (s.insecure || hasCredentials(s)) return;
  if ((s.user === undefined) !== (s.password === undefined)) {
    throw new ProvError(
      'PROV_ERR_CONFIG',
      'Invalid configuration:\n  DASHBOARD_USER and DASHBOARD_PASSWORD must be set together',
    );
  }
  throw new ProvError(
    'PROV_ERR_CONFIG',
    'Invalid configuration:\n  no dashboard credentials: set DASHBOARD_USER and DASHBOARD_PASSWORD, or DASHBOARD_TOKEN ' +
      '(or run with --insecure / DASHBOARD_INSECURE=true for local use only)',
  );
}

/** Whether an Authorization header carries valid credentials for `path`. */
export function authorized(s: AuthSettings, header: string | undefined, path: string): boolean {
  if (s.insecure && !hasCredentials(s)) return true;
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0) return false;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') {
    // Evaluate both so the time taken does not tell which token matched.
    const dashboard = s.token !== undefined && safeEqual(value, s.token);
    const metrics = path === '/metrics' && s.metricsToken !== undefined && safeEqual(value, s.metricsToken);
    return dashboard || metrics;
  }
  if (scheme === 'basic' && s.user !== undefined && s.password !== undefined) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const userOk = safeEqual(decoded.slice(0, colon), s.user);
    const passOk = safeEqual(decoded.slice(colon + 1), s.password);
    return userOk && passOk;
  }
  return false;
}

function pathOf(request: FastifyRequest): string {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * One onRequest hook in front of every route (Bull Board's included), except PUBLIC_PATHS. A client
 * (address) with too many failed logins gets 429 with Retry-After, whatever it sends, until its
 * window ends; a request without credentials (a browser's first try) is not a failure.
 */
export function installAuth(app: FastifyInstance, s: AuthSettings, throttle = new LoginThrottle()): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = pathOf(request);
    if (PUBLIC_PATHS.has(path)) return;
    if (s.insecure && !hasCredentials(s)) return;
    const client = request.ip;
    const wait = throttle.blockedFor(client);
    if (wait > 0) {
      void reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return reply.code(429).send({ error: 'too many failed logins; try again later' });
    }
    if (authorized(s, request.headers.authorization, path)) {
      throttle.succeed(client);
      return;
    }
    if (request.headers.authorization !== undefined) throttle.fail(client);
    // Basic lets a browser prompt for the password; Bearer is for scripts and Prometheus.
    if (s.user !== undefined) void reply.header('www-authenticate', 'Basic realm="provision", charset="UTF-8"');
    else void reply.header('www-authenticate', 'Bearer realm="provision"');
    return reply.code(401).send({ error: 'unauthorized' });
  });
}

/** Who a request authenticated as (installAuth let it through): the decider of a drop decision. */
export function principalOf(s: AuthSettings, header: string | undefined): { by: string; via: Actor['via'] } {
  const space = header?.indexOf(' ') ?? -1;
  const scheme = header && space > 0 ? header.slice(0, space).toLowerCase() : '';
  // installAuth checked the header: a Basic login that got through is DASHBOARD_USER's.
  if (scheme === 'basic' && s.user !== undefined && s.password !== undefined) return { by: s.user, via: 'dashboard' };
  // One API token today: it is named after the variable that holds it.
  if (scheme === 'bearer' && s.token !== undefined) return { by: 'DASHBOARD_TOKEN', via: 'token' };
  return { by: 'anonymous', via: 'insecure' };
}
