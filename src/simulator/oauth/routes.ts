import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimContext } from '../context.ts';
import { geolocationOf, isElsewhere } from '../relocation.ts';
import type { IssuedToken, TokenStore } from './tokens.ts';

// POST /oauth2/v0/token and DELETE /app-mgmt/v0/connections (docs/concur-api.md#authentication).
// Errors are Concur's `{error, error_description, code}` (not SCIM) with the documented `error`
// values and codes: invalid_client → 401, access_denied → 403, everything else → 400.

const COMPANY_SCOPE = [
  'identity.user.ids.read',
  'identity.user.core.read',
  'identity.user.coresensitive.read',
  'identity.user.enterprise.read',
  'identity.user.sap.read',
  'identity.user.coreenterprise.writeonly',
  'identity.user.externalID.writeonly',
  'identity.user.emails.verified.writeonly',
  'identity.user.delete',
  'user.provision.write',
  'user.provision.read',
  'spend.user.general.read',
  'travel.user.general.read',
].join(' ');
const APP_SCOPE = 'events.topic.read user.provision.read identity.user.event.read';

type OAuthErrorName = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'access_denied' | 'invalid_scope';

/** A refusal as Concur's token endpoint words it. */
interface OAuthRefusal {
  error: OAuthErrorName;
  code: number;
  description: string;
  /** Code 16 says where the company lives now. */
  geolocation?: string;
}

const refusal = (error: OAuthErrorName, code: number, description: string): OAuthRefusal => ({
  error,
  code,
  description,
});

const STATUS: Record<OAuthErrorName, 400 | 401 | 403> = {
  invalid_request: 400,
  invalid_grant: 400,
  invalid_scope: 400,
  invalid_client: 401,
  access_denied: 403,
};

function send(reply: FastifyReply, r: OAuthRefusal): FastifyReply {
  return reply.code(STATUS[r.error]).send({
    error: r.error,
    error_description: r.description,
    code: r.code,
    ...(r.geolocation ? { geolocation: r.geolocation } : {}),
  });
}

function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const bodyOf = (request: FastifyRequest): Record<string, unknown> =>
  (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;

export function registerOAuthRoutes(app: FastifyInstance, ctx: SimContext, tokens: TokenStore): void {
  const respond = (reply: FastifyReply, issued: IssuedToken, scope: string): FastifyReply =>
    reply.send({
      expires_in: String(issued.expiresInS),
      scope,
      token_type: 'Bearer',
      access_token: issued.accessToken,
      ...(issued.refreshToken ? { refresh_token: issued.refreshToken } : {}),
      ...(issued.refreshExpiresAt ? { refresh_expires_in: String(Math.floor(issued.refreshExpiresAt / 1000)) } : {}),
      ...(issued.idToken ? { id_token: issued.idToken } : {}),
      geolocation: geolocationOf(ctx),
    });

  /** The client: known, with its secret, and enabled. */
  const checkClient = (body: Record<string, unknown>): OAuthRefusal | undefined => {
    const clientId = field(body, 'client_id');
    const clientSecret = field(body, 'client_secret');
    if (!clientId) return refusal('invalid_request', 62, 'client_id was not supplied');
    if (!clientSecret) return refusal('invalid_request', 63, 'client_secret was not supplied');
    if (clientId !== ctx.tenant.clientId) return refusal('invalid_client', 61, 'client not found');
    if (clientSecret !== ctx.tenant.clientSecret)
      return refusal('invalid_client', 64, 'Incorrect credentials. Please Retry');
    if (ctx.knobs.clientDisabled) return refusal('access_denied', 59, 'client disabled');
    return undefined;
  };

  /** A requested `scope` may narrow the company scope, never widen it. */
  const scopeOf = (body: Record<string, unknown>): string | OAuthRefusal => {
    const asked = field(body, 'scope');
    if (asked === undefined) return COMPANY_SCOPE;
    const granted = new Set(COMPANY_SCOPE.split(' '));
    if (asked.split(/\s+/).some((s) => s !== '' && !granted.has(s)))
      return refusal('invalid_scope', 54, 'requested scope exceeds granted scope');
    return asked;
  };

  app.post('/oauth2/v0/token', { config: { family: 'oauth' } }, async (request, reply) => {
    const body = bodyOf(request);
    const badClient = checkClient(body);
    if (badClient) return send(reply, badClient);
    const clientId = field(body, 'client_id')!;

    const grant = field(body, 'grant_type');
    if (!grant) return send(reply, refusal('invalid_request', 65, 'grant_type was not supplied'));
    if (grant === 'client_credentials') {
      // App tokens come from any data center (the ESS guide: "use any production base URI").
      return respond(reply, tokens.issue('app', clientId, undefined, false), APP_SCOPE);
    }
    if (grant !== 'password' && grant !== 'refresh_token')
      return send(reply, refusal('invalid_grant', 60, 'these are not the grants you are looking for'));
    if (isElsewhere(ctx, request)) {
      return send(reply, {
        ...refusal('invalid_request', 16, 'user lives elsewhere'),
        geolocation: geolocationOf(ctx),
      });
    }
    const scope = scopeOf(body);
    if (typeof scope !== 'string') return send(reply, scope);

    if (grant === 'password') {
      const credtype = field(body, 'credtype') ?? 'password';
      if (credtype !== 'authtoken' && credtype !== 'password')
        return send(reply, refusal('invalid_request', 120, 'credtype is invalid'));
      const username = field(body, 'username');
      const password = field(body, 'password');
      if (!username) return send(reply, refusal('invalid_request', 51, 'username was not supplied'));
      if (!password) return send(reply, refusal('invalid_request', 52, 'password was not supplied'));
      // Only the company request token logs in here (no user passwords); it works for
      // requestTokenLifetimeS after it was generated (Concur: 24 h, reusable meanwhile).
      if (
        credtype !== 'authtoken' ||
        username.toLowerCase() !== ctx.tenant.companyId.toLowerCase() ||
        password !== ctx.tenant.requestToken ||
        !tokens.requestTokenValid()
      ) {
        return send(reply, refusal('invalid_grant', 5, 'Incorrect Credentials. Please Retry'));
      }
      return respond(reply, tokens.issue('company', clientId, ctx.tenant.companyId, true), scope);
    }

    const refreshToken = field(body, 'refresh_token');
    if (!refreshToken) return send(reply, refusal('invalid_request', 106, 'refresh_token was not supplied'));
    const entry = tokens.useRefreshToken(refreshToken, clientId);
    if (!entry) return send(reply, refusal('invalid_grant', 108, 'bad or expired refresh token'));
    const rotate = ctx.knobs.rotateRefreshTokens;
    const issued = tokens.issue('company', clientId, entry.companyId, rotate);
    if (!rotate) {
      tokens.keepRefreshToken(refreshToken, entry);
      issued.refreshToken = refreshToken;
      issued.refreshExpiresAt = entry.expiresAt;
    }
    return respond(reply, issued, scope);
  });

  // Revokes every refresh token the calling app holds for the token's company (or user).
  app.delete('/app-mgmt/v0/connections', { config: { family: 'oauth' } }, async (request, reply) => {
    const info = ctx.auth.verify(request.headers.authorization, 'company');
    tokens.revokeRefreshTokens(info.clientId, info.companyId);
    return reply.code(200).send();
  });
}
