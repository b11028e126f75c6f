import type { FastifyInstance } from 'fastify';
import type { SimContextBase } from './context.ts';
import { SimHttpError } from './errors.ts';

// Knobs `upsEnabled` and `dateSkewMs`: a company whose Concur is not (yet) set up for UPS, and a
// Concur whose clock disagrees with ours. `provision doctor` is tested against both.

/** UPS off: every UPS-family route answers 403, as Concur does for a company without the service. */
export function installCompanyFeatures(app: FastifyInstance, ctx: SimContextBase): void {
  app.addHook('onRequest', async (request, reply) => {
    if (ctx.knobs.upsEnabled || request.routeOptions.config?.family !== 'ups') return;
    const err = SimHttpError.scim(403, 'The company is not enabled for the User Provisioning Service');
    return reply.code(err.statusCode).headers(err.headers).send(err.body);
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (ctx.knobs.dateSkewMs !== 0) reply.header('date', new Date(Date.now() + ctx.knobs.dateSkewMs).toUTCString());
    return payload;
  });
}

/** Travel off: the Travel read-back refuses, as for a company without Travel. */
export function assertTravelEnabled(ctx: SimContextBase): void {
  if (!ctx.knobs.travelEnabled) throw SimHttpError.scim(403, 'Travel is not enabled for this company');
}
