import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SimContextBase } from './context.ts';
import { SimHttpError, scimError } from './errors.ts';

// Knob `relocateTo`: the company's data center moved. Concur tells a token request that reaches
// the old one "user lives elsewhere" (code 16) with the new geolocation, and the old data center
// no longer knows the company's tokens (docs/concur-api.md#geolocation-and-code-16).

/** The base URL tokens point callers at: the new data center once relocated, else this one. */
export function geolocationOf(ctx: SimContextBase): string {
  return ctx.knobs.relocateTo !== '' ? ctx.knobs.relocateTo.replace(/\/+$/, '') : ctx.baseUrl;
}

/** True when the company has moved and this request reached another host than its new one. */
export function isElsewhere(ctx: SimContextBase, request: FastifyRequest): boolean {
  const target = ctx.knobs.relocateTo;
  if (target === '') return false;
  return new URL(target).host.toLowerCase() !== (request.headers.host ?? '').toLowerCase();
}

/** API calls (Identity, UPS, ESS) at the old data center answer 401: it does not know the token. */
export function installRelocation(app: FastifyInstance, ctx: SimContextBase): void {
  app.addHook('onRequest', async (request, reply) => {
    const family = request.routeOptions.config?.family;
    if (family !== 'identity' && family !== 'ups' && family !== 'events') return;
    if (!isElsewhere(ctx, request)) return;
    const err = new SimHttpError(401, scimError(401, 'Invalid token'), { 'www-authenticate': 'Bearer realm="concur"' });
    return reply.code(err.statusCode).headers(err.headers).send(err.body);
  });
}
