import type { FastifyInstance } from 'fastify';
import type { EventHub, SimContext } from '../context.ts';
import { SimEventHub } from './hub.ts';
import { registerEssHttp } from './routes.ts';

// Entry points of the ESS part of the simulator (subscriptions, provisionCompleted delivery, signing).

export { SimEventHub, type DeliveryRecord } from './hub.ts';
export { verifyEventSignature } from './signer.ts';

export function createEventHub(ctx: SimContext): EventHub {
  return new SimEventHub(ctx);
}

export function registerEssRoutes(app: FastifyInstance, ctx: SimContext): void {
  if (!(ctx.events instanceof SimEventHub))
    throw new Error('registerEssRoutes needs ctx.events from createEventHub(ctx)');
  registerEssHttp(app, ctx, ctx.events);
}
