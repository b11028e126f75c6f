import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { ProvError, isProvError } from '../errors.ts';
import type { HttpTransport } from './http.ts';
import { classifyConcurResponse, concurErrorKind, oauthCodeOf } from './errors.ts';
import { parseResponse, tokenResponseSchema } from './schemas.ts';
import type { TokenRecord, TokenStore } from './token-cache.ts';
import { TrustedHosts } from './trusted-hosts.ts';

export const TOKEN_PATH = '/oauth2/v0/token';

export interface CompanyCredentials {
  clientId: string;
  clientSecret: string;
  /** Company UUID: the `username` of the request-token grant. */
  companyId: string;
  /** Company Request Token (valid 24 h, reusable): `grant_type=password`, `credtype=authtoken`. */
  requestToken?: string | undefined;
  /** A refresh token to start from when the store has none (or its own stopped working). */
  refreshToken?: string | undefined;
}

export interface TokenProviderOptions {
  http: HttpTransport;
  store: TokenStore;
  credentials: CompanyCredentials;
  /** Where the first token is asked for; later calls use the token's `geolocation`. */
  baseUrl: string;
  /**
   * Origins trusted beside https://*.concursolutions.com and `baseUrl`'s (CONCUR_TRUSTED_ORIGINS):
   * no secret or token ever goes anywhere else.
   */
  trustedOrigins?: readonly string[];
  log: Logger;
  /** Refresh this long before expiry (capped at a fifth of the token's lifetime). Default 300 000. */
  refreshMarginMs?: number;
  /** Lock time-to-live; must outlast one token request. Default 30 000. */
  lockTtlMs?: number;
  /** How often a process waiting on another's refresh re-reads the store. Default 50. */
  pollIntervalMs?: number;
  now?: () => number;
}

type Grant = { kind: 'refresh_token'; refreshToken: string; baseUrl: string } | { kind: 'password'; baseUrl: string };

const stripSlash = (url: string): string => url.replace(/\/+$/, '');

/** An http(s) base URL without its trailing slash, or undefined. */
function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? stripSlash(value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The company access token, shared by every process through the store: read from the store,
 * refreshed ahead of expiry by one process at a time under the store's lock, the others wait and
 * re-read. The refresh always uses the latest stored refresh token (Concur rotates them).
 */
export class TokenProvider {
  private readonly o: Required<Omit<TokenProviderOptions, 'credentials' | 'trustedOrigins'>> & {
    credentials: CompanyCredentials;
  };
  private readonly hosts: TrustedHosts;
  private local: TokenRecord | undefined;
  /** One refresh per process at a time; concurrent callers share it. */
  private inflight: Promise<TokenRecord> | undefined;

  constructor(options: TokenProviderOptions) {
    this.o = {
      refreshMarginMs: 300_000,
      lockTtlMs: 30_000,
      pollIntervalMs: 50,
      now: Date.now,
      ...options,
      baseUrl: stripSlash(options.baseUrl),
    };
    this.hosts = new TrustedHosts(this.o.baseUrl, options.trustedOrigins);
  }

  /** A token that is not yet due for refresh. */
  async current(): Promise<TokenRecord> {
    const now = this.o.now();
    if (this.local && now < this.local.refreshAt) return this.local;
    const stored = await this.readStored();
    if (stored && now < stored.refreshAt) return (this.local = stored);
    return this.renew(stored?.accessToken);
  }

  /** Concur refused `staleAccessToken` (401): get a different one, refreshing only if nobody has yet. */
  async renewAfter401(staleAccessToken: string): Promise<TokenRecord> {
    if (this.local?.accessToken === staleAccessToken) this.local = undefined;
    return this.renew(staleAccessToken);
  }

  private renew(stale: string | undefined): Promise<TokenRecord> {
    if (!this.inflight) {
      this.inflight = this.renewShared(stale).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private fresh(record: TokenRecord | undefined, stale: string | undefined): record is TokenRecord {
    return record !== undefined && record.accessToken !== stale && this.o.now() < record.refreshAt;
  }

  private async renewShared(stale: string | undefined): Promise<TokenRecord> {
    // Waiting longer than a lock's life means the holder died; by then the lock is free again.
    const deadline = this.o.now() + this.o.lockTtlMs * 2 + 1_000;
    while (this.o.now() < deadline) {
      const lockToken = await this.o.store.tryLock(this.o.lockTtlMs);
      if (lockToken !== undefined) {
        try {
          const stored = await this.readStored();
          const inClear = stored?.storedInClear === true;
          if (this.fresh(stored, stale)) return (this.local = stored);
          const record = await this.obtain(stored);
          const wrote = await this.o.store.write(record.record, {
            lockToken,
            usedRefreshToken: record.usedRefreshToken,
          });
          if (!wrote) {
            // Our lock expired mid-request and someone else wrote a token: theirs is the shared
            // one (ours is never used unstored, or its refresh token would die with this process).
            const latest = await this.readStored();
            if (latest) return (this.local = latest);
          }
          if (wrote && inClear)
            this.o.log.warn('the Concur token was stored in clear: replaced by a sealed one (docs/security.md)');
          return (this.local = record.record);
        } finally {
          await this.o.store.unlock(lockToken);
        }
      }
      await sleep(this.o.pollIntervalMs);
      const stored = await this.readStored();
      if (this.fresh(stored, stale)) return (this.local = stored);
    }
    throw new ProvError('PROV_ERR_RETRYABLE', 'Timed out waiting for another process to refresh the Concur token', {
      retryable: true,
      details: { kind: 'retryable' },
    });
  }

  /**
   * The stored token, only if it opens with our key and names a trusted geolocation: whoever can
   * write Redis must not be able to send our secret or tokens elsewhere (docs/security.md).
   */
  private async readStored(): Promise<TokenRecord | undefined> {
    let stored: TokenRecord | undefined;
    try {
      stored = await this.o.store.read();
    } catch (err) {
      if (isProvError(err, 'PROV_ERR_TOKEN_KEY')) throw await this.pause(err, 'concur_token_unreadable');
      throw err;
    }
    if (stored && !this.hosts.trusts(stored.geolocation)) {
      throw await this.pause(
        this.hosts.refusal(stored.geolocation, 'The Concur token stored in Redis'),
        'concur_untrusted_host',
      );
    }
    return stored;
  }

  /**
   * A token we must not use: recorded like a refusal (metric, status line, one alert) and thrown
   * with `tokenRefused`, on which workers pause instead of failing rows.
   */
  private async pause(err: ProvError, alert: string): Promise<ProvError> {
    const already = await this.o.store.readRefusal();
    await this.o.store.markRefused({ code: undefined, since: this.o.now(), message: err.message });
    if (!already) this.o.log.error({ alert, code: err.code }, `ALERT: ${err.message}; processing is paused`);
    return new ProvError(err.code, err.message, { cause: err.cause, details: { ...err.details, tokenRefused: true } });
  }

  /** Candidate grants, newest credential first; a refused one falls through to the next. */
  private grants(stored: TokenRecord | undefined): Grant[] {
    const { credentials } = this.o;
    const base = stored?.geolocation ?? this.o.baseUrl;
    const grants: Grant[] = [];
    if (stored?.refreshToken) grants.push({ kind: 'refresh_token', refreshToken: stored.refreshToken, baseUrl: base });
    if (credentials.refreshToken && credentials.refreshToken !== stored?.refreshToken) {
      grants.push({ kind: 'refresh_token', refreshToken: credentials.refreshToken, baseUrl: base });
    }
    // After a move (code 16) the request token goes to the company's new data center as well.
    if (credentials.requestToken) grants.push({ kind: 'password', baseUrl: base });
    return grants;
  }

  private async obtain(
    stored: TokenRecord | undefined,
  ): Promise<{ record: TokenRecord; usedRefreshToken: string | undefined }> {
    const grants = this.grants(stored);
    if (grants.length === 0) {
      throw new ProvError('PROV_ERR_CONFIG', 'No Concur credentials: set CONCUR_REQUEST_TOKEN or CONCUR_REFRESH_TOKEN');
    }
    const refusals: ProvError[] = [];
    for (const grant of grants) {
      try {
        const record = await this.requestToken(grant, stored);
        return { record, usedRefreshToken: grant.kind === 'refresh_token' ? grant.refreshToken : undefined };
      } catch (err) {
        if (!(isProvError(err) && concurErrorKind(err) === 'auth')) throw err;
        refusals.push(err);
        this.o.log.warn(
          { grant: grant.kind, oauthCode: oauthCodeOf(err), err: { code: err.code, message: err.message } },
          'concur token grant refused, trying the next credential',
        );
      }
    }
    throw await this.refused(refusals);
  }

  /**
   * Every credential was refused: recorded for /metrics and `provision status`, alerted once, and
   * thrown as a `tokenRefused` error, on which workers pause instead of failing rows.
   */
  private async refused(refusals: ProvError[]): Promise<ProvError> {
    const refresh = refusals.find((e) => oauthCodeOf(e) === 108);
    const cause = refresh ?? refusals.at(-1);
    const code = oauthCodeOf(cause);
    const message = refresh
      ? 'Concur refused the stored refresh token (code 108) and no other credential works: set CONCUR_REQUEST_TOKEN to a new company request token and restart the workers'
      : `Concur refused the company's credentials${code === undefined ? '' : ` (code ${code})`}: check CONCUR_CLIENT_ID and CONCUR_CLIENT_SECRET, set CONCUR_REQUEST_TOKEN to a new company request token and restart the workers`;
    const already = await this.o.store.readRefusal();
    await this.o.store.markRefused({ code, since: this.o.now(), message });
    if (!already)
      this.o.log.error({ alert: 'concur_token_refused', oauthCode: code }, `ALERT: ${message}; processing is paused`);
    return new ProvError('PROV_ERR_AUTH', message, {
      cause,
      statusCode: cause?.statusCode,
      details: {
        kind: 'auth',
        tokenRefused: true,
        ...(code === undefined ? {} : { oauthCode: code }),
        ...(cause?.details.oauthError === undefined ? {} : { oauthError: cause.details.oauthError }),
      },
    });
  }

  /** One grant; Concur's code 16 ("user lives elsewhere") moves it to the given geolocation. */
  private async requestToken(grant: Grant, stored: TokenRecord | undefined, hops = 0): Promise<TokenRecord> {
    const { credentials } = this.o;
    const form: Record<string, string> =
      grant.kind === 'refresh_token'
        ? {
            client_id: credentials.clientId,
            client_secret: credentials.clientSecret,
            grant_type: 'refresh_token',
            refresh_token: grant.refreshToken,
          }
        : {
            client_id: credentials.clientId,
            client_secret: credentials.clientSecret,
            grant_type: 'password',
            username: credentials.companyId,
            password: credentials.requestToken ?? '',
            credtype: 'authtoken',
          };
    const res = await this.o.http.request({ method: 'POST', baseUrl: grant.baseUrl, path: TOKEN_PATH, form });
    if (res.status < 200 || res.status >= 300) {
      const err = classifyConcurResponse({
        method: 'POST',
        path: res.path,
        statusCode: res.status,
        headers: res.headers,
        body: res.body,
        correlationId: res.correlationId,
        tokenEndpoint: true,
      });
      const elsewhere = oauthCodeOf(err) === 16 ? httpUrl(err.details.oauthGeolocation) : undefined;
      if (elsewhere !== undefined && elsewhere !== grant.baseUrl && hops < 2) {
        if (!this.hosts.trusts(elsewhere)) {
          throw await this.pause(
            this.hosts.refusal(elsewhere, 'A code 16 answer ("user lives elsewhere") of the token endpoint'),
            'concur_untrusted_host',
          );
        }
        this.o.log.warn(
          { from: grant.baseUrl, to: elsewhere, correlationId: res.correlationId },
          'Concur says the company lives in another data center (code 16): moving there',
        );
        return this.requestToken({ ...grant, baseUrl: elsewhere }, stored, hops + 1);
      }
      throw err;
    }
    const body = parseResponse(tokenResponseSchema, res.body, {
      what: 'token',
      statusCode: res.status,
      correlationId: res.correlationId,
    });
    const geolocation = stripSlash(body.geolocation ?? grant.baseUrl);
    if (!this.hosts.trusts(geolocation)) {
      // The token dies unused: it would only ever be sent there.
      throw await this.pause(this.hosts.refusal(geolocation, 'The token answer'), 'concur_untrusted_host');
    }
    const now = this.o.now();
    const lifetimeMs = body.expires_in * 1000;
    const expiresAt = now + lifetimeMs;
    const record: TokenRecord = {
      accessToken: body.access_token,
      expiresAt,
      refreshAt: expiresAt - Math.min(this.o.refreshMarginMs, lifetimeMs / 5),
      geolocation,
      // Keep the old refresh token when Concur does not rotate it.
      refreshToken: body.refresh_token ?? (grant.kind === 'refresh_token' ? grant.refreshToken : stored?.refreshToken),
    };
    this.o.log.info(
      {
        grant: grant.kind,
        expiresInS: body.expires_in,
        geolocation: record.geolocation,
        correlationId: res.correlationId,
      },
      'concur token obtained',
    );
    return record;
  }
}
