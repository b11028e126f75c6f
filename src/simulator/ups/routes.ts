import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { ApiFamily, SimContext } from '../context.ts';
import { SimHttpError, scimError } from '../errors.ts';
import type { UpsEngine } from './engine.ts';
import type { OperationState } from './status.ts';
import { renderDetail, renderSummary } from './status.ts';
import { ENTITLEMENT_ROLE_CODES, EXCLUSIVE_ROLE_GROUPS, SPEND_ROLE_CATALOGUE } from './role-codes.ts';
import { SPEND_READ_URN, SPEND_READ_URNS, TRAVEL_USER_URN } from './urns.ts';
import { assertTravelEnabled } from '../company-features.ts';

/** Current docs use /profile/v4; older docs, the swagger and ESS hrefs use /provisioning/v4. */
export const UPS_PREFIXES = ['/profile/v4', '/provisioning/v4'] as const;
/** Room above the 400 KB Bulk limit so an oversized Bulk gets Concur's 413, not the framework's. */
const BULK_BODY_LIMIT = 8 * 1024 * 1024;
const DEFAULT_STATUS_COUNT = 100;
const MAX_STATUS_COUNT = 1000;
const STATES: readonly OperationState[] = ['pending', 'success', 'failed'];

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Registers a route with and without a trailing slash (unless the router already ignores slashes). */
export function routeBothSlashes(
  app: FastifyInstance,
  method: Method,
  url: string,
  family: ApiFamily,
  handler: RouteHandlerMethod,
  bodyLimit?: number,
): void {
  const options = { config: { family }, ...(bodyLimit === undefined ? {} : { bodyLimit }) };
  app.route({ method, url, handler, ...options });
  const slashed = `${url}/`;
  if (!app.hasRoute({ method, url: slashed })) app.route({ method, url: slashed, handler, ...options });
}

/** The correlation id of this exchange: the one the app put on the response, else the caller's, else new. */
export function correlationIdOf(request: FastifyRequest, reply: FastifyReply): string {
  if (typeof request.correlationId === 'string' && request.correlationId !== '') return request.correlationId;
  const sent = reply.getHeader('concur-correlationid');
  if (typeof sent === 'string' && sent !== '') return sent;
  const asked = request.headers['concur-correlationid'];
  if (typeof asked === 'string' && asked !== '') return asked;
  return randomUUID().replaceAll('-', '');
}

function companyOf(ctx: SimContext, request: FastifyRequest): string {
  const token = ctx.auth.verify(request.headers.authorization, 'company');
  // Company tokens always carry a company; fall back to the one tenant for safety.
  return token.companyId ?? ctx.tenant.companyId;
}

function withProvisionMeta(
  resource: Record<string, unknown>,
  provisionId: string,
  statusUrl: string,
): Record<string, unknown> {
  const meta =
    typeof resource.meta === 'object' && resource.meta !== null ? (resource.meta as Record<string, unknown>) : {};
  return { ...resource, meta: { ...meta, statusUrl, provisionId } };
}

export function registerUpsHttp(app: FastifyInstance, ctx: SimContext, engine: UpsEngine): void {
  for (const prefix of UPS_PREFIXES) {
    routeBothSlashes(app, 'POST', `${prefix}/Users`, 'ups', async (request, reply) => {
      const companyId = companyOf(ctx, request);
      const { user, provision } = engine.createUser(request.body, companyId, correlationIdOf(request, reply));
      const location =
        user.resource.meta && typeof user.resource.meta === 'object'
          ? (user.resource.meta as { location?: unknown }).location
          : undefined;
      if (typeof location === 'string') reply.header('location', location);
      return reply.code(201).send(withProvisionMeta(user.resource, provision.id, provision.location));
    });
    routeBothSlashes(app, 'PATCH', `${prefix}/Users/:id`, 'ups', async (request, reply) => {
      const companyId = companyOf(ctx, request);
      const { id } = request.params as { id: string };
      const { user, provision } = engine.patchUser(id, request.body, companyId, correlationIdOf(request, reply));
      return reply.code(200).send(withProvisionMeta(user.resource, provision.id, provision.location));
    });
    routeBothSlashes(app, 'PUT', `${prefix}/Users/:id`, 'ups', async (request, reply) => {
      const companyId = companyOf(ctx, request);
      const { id } = request.params as { id: string };
      const { user, provision } = engine.replaceUser(id, request.body, companyId, correlationIdOf(request, reply));
      return reply.code(200).send(withProvisionMeta(user.resource, provision.id, provision.location));
    });
    routeBothSlashes(app, 'DELETE', `${prefix}/Users/:id`, 'ups', async (request, reply) => {
      const companyId = companyOf(ctx, request);
      const { id } = request.params as { id: string };
      engine.deleteUser(id, companyId);
      return reply.code(204).send();
    });
    routeBothSlashes(
      app,
      'POST',
      `${prefix}/Bulk`,
      'ups',
      async (request, reply) => {
        const companyId = companyOf(ctx, request);
        const query = request.query as { companyId?: unknown };
        if (
          typeof query.companyId === 'string' &&
          query.companyId !== '' &&
          query.companyId.toLowerCase() !== companyId.toLowerCase()
        ) {
          throw SimHttpError.scim(400, 'companyId does not match the company of the access token', {
            scimType: 'invalidValue',
          });
        }
        const provision = engine.submitBulk(
          request.body,
          bodySize(request),
          companyId,
          correlationIdOf(request, reply),
        );
        reply.header('location', provision.location);
        return reply.code(202).send(renderSummary(provision));
      },
      BULK_BODY_LIMIT,
    );
    routeBothSlashes(app, 'GET', `${prefix}/provisions/:id/status`, 'ups', async (request, reply) => {
      const companyId = companyOf(ctx, request);
      if (ctx.knobs.statusUnauthorized)
        throw new SimHttpError(401, scimError(401, 'Invalid token'), { 'www-authenticate': 'Bearer realm="concur"' });
      const { id } = request.params as { id: string };
      const provision = engine.find(id, companyId);
      if (!provision) throw SimHttpError.scim(404, `Provision request '${id}' not found`);
      const query = request.query as Record<string, unknown>;
      const attributes =
        typeof query.attributes === 'string' ? query.attributes.split(',').map((a) => a.trim().toLowerCase()) : [];
      if (!attributes.includes('operations')) return reply.send(renderSummary(provision));
      return reply.send(renderDetail(provision, parseDetailQuery(query)));
    });
  }
  registerReadBack(app, ctx);
}

function bodySize(request: FastifyRequest): number {
  // The app's JSON parser records the raw size; fall back for bodies it did not parse.
  if (typeof request.rawBodyLength === 'number' && request.rawBodyLength > 0) return request.rawBodyLength;
  const header = Number(request.headers['content-length']);
  if (Number.isFinite(header) && header > 0) return header;
  return Buffer.byteLength(JSON.stringify(request.body ?? null));
}

function parseDetailQuery(query: Record<string, unknown>): {
  startIndex: number;
  count: number;
  state: OperationState | undefined;
} {
  const startIndex = parseIntParam(query.startIndex, 'startIndex', 1);
  const count = Math.min(parseIntParam(query.count, 'count', DEFAULT_STATUS_COUNT), MAX_STATUS_COUNT);
  let state: OperationState | undefined;
  if (query.state !== undefined && query.state !== '') {
    const s = String(query.state).toLowerCase();
    if (!STATES.includes(s as OperationState)) {
      throw SimHttpError.scim(400, `Invalid state '${String(query.state)}': expected pending, success or failed`, {
        scimType: 'invalidValue',
      });
    }
    state = s as OperationState;
  }
  // SCIM: a startIndex below 1 is read as 1.
  return { startIndex: Math.max(1, startIndex), count: Math.max(0, count), state };
}

function parseIntParam(raw: unknown, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n))
    throw SimHttpError.scim(400, `Invalid ${name} '${String(raw)}': expected an integer`, { scimType: 'invalidValue' });
  return n;
}

/** Spend v4.1 (and the deprecated v4) and Travel v4 read-back of the stored extensions. */
function registerReadBack(app: FastifyInstance, ctx: SimContext): void {
  const spend: RouteHandlerMethod = async (request, reply) => {
    const companyId = companyOf(ctx, request);
    const { id } = request.params as { id: string };
    const user = ctx.users.get(id, companyId);
    const body: Record<string, unknown> = { schemas: [SPEND_READ_URN], id: user.resource.id };
    for (const urn of SPEND_READ_URNS) {
      const value = user.extensions[urn];
      if (value === undefined) continue;
      (body.schemas as string[]).push(urn);
      body[urn] = value;
    }
    return reply.send(body);
  };
  // Static before the `:id` route: fastify prefers the static segment.
  routeBothSlashes(app, 'GET', '/profile/spend/v4/Users/roleCodes', 'ups', async (request, reply) => {
    companyOf(ctx, request);
    return reply.send(roleCodesBody(ctx.knobs.spendRoleCodes));
  });
  routeBothSlashes(app, 'GET', '/profile/spend/v4.1/Users/:id', 'ups', spend);
  routeBothSlashes(app, 'GET', '/profile/spend/v4/Users/:id', 'ups', spend);
  routeBothSlashes(app, 'GET', '/profile/travel/v4/Users/:id', 'ups', async (request, reply) => {
    const companyId = companyOf(ctx, request);
    assertTravelEnabled(ctx);
    const { id } = request.params as { id: string };
    const user = ctx.users.get(id, companyId);
    const travel = user.extensions[TRAVEL_USER_URN];
    const body: Record<string, unknown> = { schemas: travel ? [TRAVEL_USER_URN] : [], id: user.resource.id };
    if (travel) body[TRAVEL_USER_URN] = travel;
    return reply.send(body);
  });
}

/**
 * `GET /profile/spend/v4/Users/roleCodes`: the codes this company may assign. Concur documents the
 * endpoint but not its body; this ListResponse of catalogue entries is our assumption
 * (docs/concur-api.md#spend-role-codes).
 */
function roleCodesBody(accepted: readonly string[]): Record<string, unknown> {
  const known = new Map(SPEND_ROLE_CATALOGUE.map((r) => [r.roleCode, r]));
  const resources = accepted.map((code) => {
    const entry = known.get(code);
    const exclusiveWith = [
      ...new Set(EXCLUSIVE_ROLE_GROUPS.filter((g) => g.includes(code)).flatMap((g) => g.filter((c) => c !== code))),
    ];
    return {
      roleCode: code,
      roleName: entry?.roleName ?? code,
      productAreas: entry?.productAreas ?? [],
      groupAware: entry?.groupAware ?? false,
      ...(ENTITLEMENT_ROLE_CODES[code] ? { entitlement: ENTITLEMENT_ROLE_CODES[code] } : {}),
      ...(exclusiveWith.length > 0 ? { exclusiveWith } : {}),
    };
  });
  return {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: resources.length,
    itemsPerPage: resources.length,
    startIndex: 1,
    Resources: resources,
  };
}
