import type { FastifyInstance } from 'fastify';
import type { EventHub, SimContext } from '../context.ts';

// Entry points of the ESS part of the simulator (subscriptions, provisionCompleted delivery, signing).
// Placeholder signatures: the ESS work fills these in.

export function createEventHub(_ctx: SimContext): EventHub {
  return { reset: () => undefined, close: async () => undefined };
}

export function registerEssRoutes(_app: FastifyInstance, _ctx: SimContext): void {}
