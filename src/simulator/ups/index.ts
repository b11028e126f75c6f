import type { FastifyInstance } from 'fastify';
import type { ProvisionStore, SimContext } from '../context.ts';

// Entry points of the UPS part of the simulator (UPS /Users, /Bulk, status, Spend/Travel read-back).
// Placeholder signatures: the UPS work fills these in.

export function createProvisionStore(_ctx: SimContext): ProvisionStore {
  return { list: () => [], reset: () => undefined };
}

export function registerUpsRoutes(_app: FastifyInstance, _ctx: SimContext): void {}
