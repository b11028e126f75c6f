import type { FastifyInstance } from 'fastify';
import type { SimContext } from '../context.ts';
import { SimHttpError } from '../errors.ts';
import type { SimEventHub } from './hub.ts';
import { TOPICS } from './subscriptions.ts';

const EVENTS = '/events/v4';

/**
 * ESS subscription management. Concur wants an app token here; the simulator also accepts company
 * tokens (lenient) so a pipeline holding only a company token can subscribe in tests and demos.
 */
export function registerEssHttp(app: FastifyInstance, ctx: SimContext, hub: SimEventHub): void {
  const config = { family: 'events' as const };
  const caller = (authorization: string | undefined): { clientId: string } => ctx.auth.verify(authorization, 'any');

  app.get(`${EVENTS}/topics`, { config }, async (request) => {
    caller(request.headers.authorization);
    return TOPICS;
  });
  app.put(`${EVENTS}/subscriptions/webhook`, { config }, async (request) => {
    const { clientId } = caller(request.headers.authorization);
    const sub = hub.subscriptions.save(request.body, clientId, ctx.tenant.companyId);
    return { message: `Subscription '${sub.id}' saved successfully` };
  });
  app.get(`${EVENTS}/subscriptions`, { config }, async (request) => {
    caller(request.headers.authorization);
    return hub.subscriptions.list();
  });
  app.get(`${EVENTS}/subscriptions/:id`, { config }, async (request) => {
    caller(request.headers.authorization);
    const { id } = request.params as { id: string };
    // Postman lists subscriptions with GET .../subscriptions/webhook.
    if (id === 'webhook' && !hub.subscriptions.get(id)) return hub.subscriptions.list();
    const sub = hub.subscriptions.get(id);
    if (!sub) throw new SimHttpError(404, { message: `Subscription '${id}' not found` });
    return [sub];
  });
  app.delete(`${EVENTS}/subscriptions/:id`, { config }, async (request) => {
    caller(request.headers.authorization);
    const { id } = request.params as { id: string };
    if (!hub.subscriptions.remove(id)) throw new SimHttpError(404, { message: `Subscription '${id}' not found` });
    return { message: `Subscription '${id}' marked for deletion` };
  });
  app.get('/_sim/public-key', { config: { family: 'admin' as const } }, async (_request, reply) => {
    return reply.type('application/x-pem-file').send(hub.publicKeyPem);
  });
}
