import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SimContext } from './context.ts';
import { SimHttpError, scimError } from './errors.ts';
import type { FaultInjector } from './faults.ts';
import { knobsPatchSchema, type Knobs } from './knobs.ts';
import type { TokenStore } from './oauth/tokens.ts';

// /_sim/* test and ops endpoints: never faulted, never rate limited, no auth.

const config = { family: 'admin' as const };
const clockBody = z.object({ advanceMs: z.number().int().min(0) }).strict();

function badRequest(issues: z.core.$ZodIssue[]): SimHttpError {
  const detail = issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  return new SimHttpError(400, scimError(400, detail, { scimType: 'invalidValue' }));
}

export interface AdminDeps {
  tokens: TokenStore;
  faults: FaultInjector;
}

/** Applies a knob patch in place (other modules hold ctx.knobs). Returns the new knobs. */
export function applyKnobsPatch(ctx: SimContext, faults: FaultInjector, body: unknown): Knobs {
  const parsed = knobsPatchSchema.safeParse(body ?? {});
  if (!parsed.success) throw badRequest(parsed.error.issues);
  // zod's partial() still fills defaults: copy only the keys the caller sent.
  const sent = Object.keys(body as Record<string, unknown>);
  const next = parsed.data as Record<string, unknown>;
  for (const key of sent) (ctx.knobs as Record<string, unknown>)[key] = next[key];
  if (sent.includes('seed')) ctx.random.reseed(ctx.knobs.seed);
  if (sent.some((k) => k === 'identityRps' || k === 'upsRps' || k === 'burstSeconds')) faults.resetBuckets();
  return ctx.knobs;
}

export function resetSimulator(ctx: SimContext, deps: AdminDeps): void {
  // The clock first: the request token's 24 h start again from the reset clock.
  ctx.clock.reset();
  ctx.users.reset();
  ctx.auth.reset();
  ctx.provisions.reset();
  ctx.events.reset();
  ctx.stats.reset();
  deps.faults.resetBuckets();
  ctx.random.reseed(ctx.knobs.seed);
}

export function registerAdminRoutes(app: FastifyInstance, ctx: SimContext, deps: AdminDeps): void {
  app.get('/_sim/config', { config }, async () => ctx.knobs);

  app.patch('/_sim/config', { config }, async (request) => {
    if (typeof request.body !== 'object' || request.body === null || Array.isArray(request.body)) {
      throw SimHttpError.scim(400, 'Body must be a JSON object of knobs', { scimType: 'invalidSyntax' });
    }
    return applyKnobsPatch(ctx, deps.faults, request.body);
  });

  app.get('/_sim/state', { config }, async () => ({
    users: ctx.users.list().map((u) => ({ ...structuredClone(u.resource), ...structuredClone(u.extensions) })),
    provisions: ctx.provisions.list(),
  }));

  app.post('/_sim/reset', { config }, async (_request, reply) => {
    resetSimulator(ctx, deps);
    return reply.code(204).send();
  });

  app.get('/_sim/stats', { config }, async () => ctx.stats.toJSON());

  app.post('/_sim/clock', { config }, async (request) => {
    const parsed = clockBody.safeParse(request.body ?? {});
    if (!parsed.success) throw badRequest(parsed.error.issues);
    ctx.clock.advance(parsed.data.advanceMs);
    return { offsetMs: ctx.clock.offset, now: new Date(ctx.clock.now()).toISOString() };
  });

  app.post('/_sim/tokens/expire', { config }, async () => ({ expired: deps.tokens.expireAll() }));

  app.post('/_sim/request-token', { config }, async () => ({ requestToken: deps.tokens.newRequestToken() }));
}
