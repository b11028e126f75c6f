import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isProvError } from '../shared/errors.ts';
import { decide, type DecideDeps } from '../shared/guards/decide.ts';
import { DECISION_ACTIONS, type Actor } from '../shared/ledger/decisions.ts';
import { isDropId } from '../shared/keys.ts';
import { printable } from '../shared/safe-text.ts';
import { principalOf, type AuthSettings } from './auth.ts';

export interface DecisionRouteDeps extends DecideDeps {
  auth: AuthSettings;
}

/** Who asked, and from where: the authenticated principal, the client address and its user agent. */
export function actorOf(auth: AuthSettings, request: FastifyRequest): Actor {
  const agent = request.headers['user-agent'];
  return {
    ...principalOf(auth, request.headers.authorization),
    ip: request.ip,
    ...(typeof agent === 'string' && agent !== '' ? { userAgent: printable(agent, 300) } : {}),
  };
}

/**
 * `POST /drops/:id/approve | cancel | pause | resume | run` (docs/operations.md#decisions): the
 * same code as the CLI's, each decision recorded with who, when and from where. Behind the auth
 * and cross-site guards like every state-changing route: a browser must send a non-form content
 * type (the page sends `application/json`), which a cross-site page cannot without a preflight.
 * The body may be empty or `{}`.
 */
export function registerDecisionRoutes(app: FastifyInstance, deps: DecisionRouteDeps): void {
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body).trim();
      if (text === '') return done(null, {});
      try {
        done(null, JSON.parse(text) as unknown);
      } catch {
        done(Object.assign(new Error('the body is not JSON'), { statusCode: 400 }), undefined);
      }
    });
    for (const action of DECISION_ACTIONS) {
      scope.post<{ Params: { id: string } }>(`/drops/:id/${action}`, async (request, reply) => {
        const { id } = request.params;
        if (!isDropId(id) || (await deps.ledger.dropStatus(id)) === undefined)
          return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no drop ${id}` } });
        try {
          return await decide(deps, id, action, actorOf(deps.auth, request));
        } catch (err) {
          // The drop's status does not allow it (already running, already cancelled...).
          if (isProvError(err, 'PROV_ERR_LEDGER'))
            return reply.code(409).send({ error: { code: 'CONFLICT', message: err.message } });
          throw err;
        }
      });
    }
  });
}
