import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SimContext } from '../context.ts';
import type { IssuedToken, TokenStore } from './tokens.ts';

// POST /oauth2/v0/token (reference §5). Errors are Concur's `{error, error_description, code}`
// (not SCIM): 401 for an unknown client, 400 for a bad grant.

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

function oauthError(
  reply: FastifyReply,
  status: 400 | 401,
  error: string,
  description: string,
  code: number,
): FastifyReply {
  return reply.code(status).send({ error, error_description: description, code });
}

function field(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

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
      geolocation: ctx.baseUrl,
    });

  app.post('/oauth2/v0/token', { config: { family: 'oauth' } }, async (request, reply) => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
      string,
      unknown
    >;
    const clientId = field(body, 'client_id');
    const clientSecret = field(body, 'client_secret');
    if (clientId !== ctx.tenant.clientId) return oauthError(reply, 401, 'invalid_client', 'client not found', 61);
    if (clientSecret !== ctx.tenant.clientSecret)
      return oauthError(reply, 401, 'invalid_client', 'client credentials are invalid', 61);

    const grant = field(body, 'grant_type');
    if (grant === 'password') {
      const credtype = field(body, 'credtype');
      if (credtype !== 'authtoken') {
        return oauthError(
          reply,
          400,
          'unsupported_grant_type',
          'only credtype=authtoken (company request token) is supported',
          5,
        );
      }
      const username = field(body, 'username');
      const password = field(body, 'password');
      if (username?.toLowerCase() !== ctx.tenant.companyId.toLowerCase() || password !== ctx.tenant.requestToken) {
        return oauthError(reply, 400, 'invalid_grant', 'Incorrect Credentials. Please Retry', 5);
      }
      return respond(reply, tokens.issue('company', clientId, ctx.tenant.companyId, true), COMPANY_SCOPE);
    }
    if (grant === 'refresh_token') {
      const refreshToken = field(body, 'refresh_token');
      const entry = refreshToken ? tokens.useRefreshToken(refreshToken, clientId) : undefined;
      if (!refreshToken || !entry) return oauthError(reply, 400, 'invalid_grant', 'bad or expired refresh token', 108);
      const rotate = ctx.knobs.rotateRefreshTokens;
      const issued = tokens.issue('company', clientId, entry.companyId, rotate);
      if (!rotate) {
        tokens.keepRefreshToken(refreshToken, entry);
        issued.refreshToken = refreshToken;
        issued.refreshExpiresAt = entry.expiresAt;
      }
      return respond(reply, issued, field(body, 'scope') ?? COMPANY_SCOPE);
    }
    if (grant === 'client_credentials') {
      return respond(reply, tokens.issue('app', clientId, undefined, false), APP_SCOPE);
    }
    return oauthError(reply, 400, 'unsupported_grant_type', `grant_type '${grant ?? ''}' is not supported`, 5);
  });
}
