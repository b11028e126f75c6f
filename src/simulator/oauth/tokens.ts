import { randomBytes, randomUUID } from 'node:crypto';
import type { AuthGate, SimContextBase, TokenInfo } from '../context.ts';
import { SimHttpError, scimError } from '../errors.ts';

// Issued tokens live in memory; expiry is measured on ctx.clock so tests can advance it.
// Tokens look like JWTs (header.payload.random) so clients that peek at `exp` can, but they
// are checked only by lookup here.

interface RefreshEntry {
  companyId: string;
  clientId: string;
  expiresAt: number;
}

export interface IssuedToken {
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | undefined;
  expiresInS: number;
  refreshExpiresAt: number | undefined;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export class TokenStore implements AuthGate {
  private readonly access = new Map<string, TokenInfo>();
  private readonly refresh = new Map<string, RefreshEntry>();
  /** When the company request token was generated (simulated clock): at start and on reset. */
  private requestTokenIssuedAt: number;

  constructor(private readonly ctx: SimContextBase) {
    this.requestTokenIssuedAt = ctx.clock.now();
  }

  /** The company request token still works (knob requestTokenLifetimeS; Concur: 24 h). */
  requestTokenValid(): boolean {
    return this.ctx.clock.now() < this.requestTokenIssuedAt + this.ctx.knobs.requestTokenLifetimeS * 1000;
  }

  /**
   * An administrator generates a new company request token (POST /_sim/request-token): the old
   * one stops working and the new one lasts requestTokenLifetimeS from now.
   */
  newRequestToken(): string {
    const token = `sim-request-token-${randomBytes(6).toString('hex')}`;
    this.ctx.tenant.requestToken = token;
    this.requestTokenIssuedAt = this.ctx.clock.now();
    return token;
  }

  /** DELETE /app-mgmt/v0/connections: every refresh token of this app for this company stops working. */
  revokeRefreshTokens(clientId: string, companyId: string | undefined): number {
    let n = 0;
    for (const [token, entry] of this.refresh) {
      if (entry.clientId === clientId && entry.companyId === companyId) {
        this.refresh.delete(token);
        n += 1;
      }
    }
    return n;
  }

  /** Company token (password/authtoken or refresh grant); app token (client_credentials). */
  issue(kind: 'company' | 'app', clientId: string, companyId: string | undefined, withRefresh: boolean): IssuedToken {
    const now = this.ctx.clock.now();
    const lifetimeS = this.ctx.knobs.tokenLifetimeS;
    const expiresAt = now + lifetimeS * 1000;
    const claims = {
      iss: this.ctx.baseUrl || 'concur-simulator',
      sub: kind === 'company' ? companyId : clientId,
      aud: '*',
      'concur.type': kind,
      'concur.app': clientId,
      iat: Math.floor(now / 1000),
      exp: Math.floor(expiresAt / 1000),
      jti: randomUUID(),
    };
    const accessToken = `${b64({ typ: 'JWT', alg: 'none', kid: 'sim' })}.${b64(claims)}.${randomBytes(24).toString('base64url')}`;
    this.access.set(accessToken, { kind, companyId, clientId, expiresAt });
    let refreshToken: string | undefined;
    let refreshExpiresAt: number | undefined;
    if (withRefresh && companyId) {
      refreshToken = randomUUID();
      refreshExpiresAt = now + this.ctx.knobs.refreshTokenLifetimeS * 1000;
      this.refresh.set(refreshToken, { companyId, clientId, expiresAt: refreshExpiresAt });
    }
    const idToken = kind === 'company' ? `${b64({ typ: 'JWT', alg: 'none' })}.${b64(claims)}.` : undefined;
    return { accessToken, refreshToken, idToken, expiresInS: lifetimeS, refreshExpiresAt };
  }

  /** The refresh token's company, or undefined when unknown, expired, or issued to another client. */
  useRefreshToken(token: string, clientId: string): RefreshEntry | undefined {
    const entry = this.refresh.get(token);
    if (!entry || entry.clientId !== clientId) return undefined;
    if (entry.expiresAt <= this.ctx.clock.now()) {
      this.refresh.delete(token);
      return undefined;
    }
    if (this.ctx.knobs.rotateRefreshTokens) this.refresh.delete(token);
    return entry;
  }

  /** When rotation is off, a refresh answers with the same refresh token. */
  keepRefreshToken(token: string, entry: RefreshEntry): void {
    this.refresh.set(token, entry);
  }

  verify(authorizationHeader: string | undefined, kind: 'company' | 'app' | 'any'): TokenInfo {
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorizationHeader ?? '');
    if (!match) throw unauthorized('Missing bearer token');
    const info = this.access.get(match[1] as string);
    if (!info) throw unauthorized('Invalid token');
    if (info.expiresAt <= this.ctx.clock.now()) throw unauthorized('Token expired');
    if (kind !== 'any' && info.kind !== kind) {
      throw SimHttpError.scim(403, `This API needs a ${kind} token, not a ${info.kind} token`, {
        messages: [{ code: 'FORBIDDEN', message: `A ${kind} token is required`, type: 'error' }],
      });
    }
    return info;
  }

  /** Test hook (POST /_sim/tokens/expire): every access token issued so far is now expired. */
  expireAll(): number {
    const now = this.ctx.clock.now();
    for (const info of this.access.values()) info.expiresAt = Math.min(info.expiresAt, now);
    return this.access.size;
  }

  reset(): void {
    this.access.clear();
    this.refresh.clear();
    this.requestTokenIssuedAt = this.ctx.clock.now();
  }
}

function unauthorized(detail: string): SimHttpError {
  return new SimHttpError(401, scimError(401, detail), { 'www-authenticate': 'Bearer realm="concur"' });
}

export function createTokenStore(ctx: SimContextBase): TokenStore {
  return new TokenStore(ctx);
}
