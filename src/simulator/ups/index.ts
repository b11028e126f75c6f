import type { FastifyInstance } from 'fastify';
import type { ProvisionStore, SimContext } from '../context.ts';
import { UpsEngine } from './engine.ts';
import { registerUpsHttp } from './routes.ts';

// Entry points of the UPS part of the simulator (UPS /Users, /Bulk, status, Spend/Travel read-back).

export { UpsEngine } from './engine.ts';

export function createProvisionStore(ctx: SimContext): ProvisionStore {
  return new UpsEngine(ctx);
}

export function registerUpsRoutes(app: FastifyInstance, ctx: SimContext): void {
  if (!(ctx.provisions instanceof UpsEngine)) {
    throw new Error('registerUpsRoutes needs ctx.provisions from createProvisionStore(ctx)');
  }
  registerUpsHttp(app, ctx, ctx.provisions);
}
