import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../shared/logger.ts';
import { SIM_DEFAULTS } from '../shared/config.ts';
import { registerAdminRoutes } from './admin.ts';
import { SimClock } from './clock.ts';
import type { ApiFamily, SimContext, SimContextBase, SimTenant } from './context.ts';
import { SimHttpError, scimError } from './errors.ts';
import { createEventHub, registerEssRoutes } from './ess/index.ts';
import { profileEvent } from './ess/profile-events.ts';
import { registerDiscoveryRoutes } from './discovery.ts';
import { FaultInjector } from './faults.ts';
import { registerIdentityRoutes } from './identity/routes.ts';
import { registerListRoutes } from './lists/routes.ts';
import { createUserStore } from './identity/store.ts';
import { resolveKnobs, type KnobsInput } from './knobs.ts';
import { registerOAuthRoutes } from './oauth/routes.ts';
import { installRelocation } from './relocation.ts';
import { installCompanyFeatures } from './company-features.ts';
import { createTokenStore } from './oauth/tokens.ts';
import { SeededRandom } from './random.ts';
import { SimStats } from './stats.ts';
import { createProvisionStore, registerUpsRoutes } from './ups/index.ts';

/*
 * The simulator's fastify app. Conventions for route modules (identity, ups, ess, admin):
 *
 * - Declare the API family on every route: `app.get(url, { config: { family: 'ups' } }, handler)`
 *   with family one of 'identity' | 'ups' | 'lists' | 'events' | 'oauth' | 'admin'. The family selects the
 *   fault knobs (faults.ts): 'identity' and 'ups' are rate limited; every family except 'admin'
 *   gets resets, hangs, injected 503s and latency; 'admin' (/_sim/*) is never faulted and not
 *   counted in /_sim/stats. A route without a family is never faulted either.
 * - Throw SimHttpError (errors.ts) for Concur-shaped errors; anything else becomes a SCIM 500.
 * - Bodies: `application/json` and `application/scim+json` are parsed as JSON (an empty body is
 *   `undefined`), `application/x-www-form-urlencoded` into a string record. The app-wide body
 *   limit is BODY_LIMIT_BYTES so size rules (Bulk's 400 KB) are checked by the route with
 *   `request.rawBodyLength` (bytes of the raw body, 0 when none) and answered in Concur's shape.
 * - `request.correlationId` is the `concur-correlationid` of the response (echoed or generated).
 * - Trailing slashes are ignored (`/profile/v4/Bulk/` = `/profile/v4/Bulk`) and paths match
 *   case-insensitively (`/users/{id}` = `/Users/{id}`); parameters keep their case.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    family?: ApiFamily;
  }
  interface FastifyRequest {
    correlationId: string;
    rawBodyLength: number;
  }
}

export const BODY_LIMIT_BYTES = 8 * 1024 * 1024;

export interface SimulatorOptions {
  tenant?: Partial<SimTenant>;
  knobs?: KnobsInput;
  log?: Logger;
}

export interface Simulator {
  app: FastifyInstance;
  ctx: SimContext;
  /** Starts listening (port 0 = any free port) and returns the base URL, also set as ctx.baseUrl. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /** Ends hung requests, stops timers and closes the server. Idempotent. */
  close(): Promise<void>;
}

function installBodyParsers(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(
    ['application/json', 'application/scim+json'],
    { parseAs: 'buffer' },
    (request, body, done) => {
      const buf = body as Buffer;
      request.rawBodyLength = buf.length;
      if (buf.length === 0) {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(buf.toString('utf8')));
      } catch {
        done(SimHttpError.scim(400, 'Request body is not valid JSON', { scimType: 'invalidSyntax' }), undefined);
      }
    },
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    const buf = body as Buffer;
    request.rawBodyLength = buf.length;
    done(null, Object.fromEntries(new URLSearchParams(buf.toString('utf8'))));
  });
}

function installErrorHandlers(app: FastifyInstance, ctx: SimContextBase): void {
  app.setErrorHandler((err: unknown, _request, reply) => {
    if (err instanceof SimHttpError) {
      return reply.code(err.statusCode).headers(err.headers).send(err.body);
    }
    const e = err as { statusCode?: unknown; message?: unknown };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status >= 500) ctx.log?.error({ err }, 'simulator route failed');
    const detail = status >= 500 ? 'Internal server error' : String(e.message ?? 'Bad request');
    return reply.code(status).send(scimError(status, detail, status === 400 ? { scimType: 'invalidSyntax' } : {}));
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(scimError(404, `No resource at ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });
}

/** Builds the simulator (nothing listens until `listen`). */
export async function buildSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const knobs = resolveKnobs(options.knobs);
  const base: SimContextBase = {
    tenant: {
      clientId: options.tenant?.clientId ?? SIM_DEFAULTS.clientId,
      clientSecret: options.tenant?.clientSecret ?? SIM_DEFAULTS.clientSecret,
      companyId: options.tenant?.companyId ?? SIM_DEFAULTS.companyId,
      requestToken: options.tenant?.requestToken ?? SIM_DEFAULTS.requestToken,
    },
    knobs,
    clock: new SimClock(),
    random: new SeededRandom(knobs.seed),
    stats: new SimStats(),
    log: options.log,
    baseUrl: '',
  };
  // The stores need the full context and the context needs the stores: fill it in steps.
  const ctx = base as SimContext;
  const users = createUserStore(ctx);
  const tokens = createTokenStore(ctx);
  ctx.users = users;
  ctx.auth = tokens;
  ctx.provisions = createProvisionStore(ctx);
  ctx.events = createEventHub(ctx);
  users.onChange = (change) => {
    const event = profileEvent(change, ctx.baseUrl);
    if (event) ctx.events.publish(event);
  };

  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    // Concur matches resource segments case-insensitively (SAP's collection calls `/v4/users/{id}`).
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
  });
  app.decorateRequest('correlationId', '');
  app.decorateRequest('rawBodyLength', 0);
  installBodyParsers(app);
  installErrorHandlers(app, ctx);

  const faults = new FaultInjector(ctx);
  faults.install(app);
  installRelocation(app, ctx);
  installCompanyFeatures(app, ctx);

  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  registerOAuthRoutes(app, ctx, tokens);
  registerIdentityRoutes(app, ctx, users);
  registerAdminRoutes(app, ctx, { tokens, faults });
  registerUpsRoutes(app, ctx);
  registerEssRoutes(app, ctx);
  registerDiscoveryRoutes(app, ctx);
  registerListRoutes(app, ctx);
  await app.ready();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      faults.close();
      const results = await Promise.allSettled([ctx.events.close(), ctx.provisions.close()]);
      for (const socket of sockets) socket.destroy();
      await app.close();
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    })();
    return closing;
  };

  const listen = async (opts: { port?: number; host?: string } = {}): Promise<string> => {
    const host = opts.host ?? '127.0.0.1';
    await app.listen({ port: opts.port ?? 0, host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const publicHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    ctx.baseUrl = `http://${publicHost}:${String(port)}`;
    return ctx.baseUrl;
  };

  return { app, ctx, listen, close };
}
