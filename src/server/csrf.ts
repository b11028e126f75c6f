import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/*
 * Cross-site request forgery (docs/security.md#cross-site-requests). The dashboard relies on the
 * browser's saved Basic login, which a browser also attaches to a request another site makes. So
 * every state-changing request (any method but GET, HEAD and OPTIONS, on every route, Bull Board's
 * included) must pass two checks:
 *
 * 1. Same origin: `Sec-Fetch-Site`, when sent, is `same-origin` (or `none`); `Origin`, when sent,
 *    names this server's host. Scripts (curl, CI) send neither and pass.
 * 2. A request no other site can make without asking first: a method other than POST, or a POST
 *    whose content type is not one of the three a plain HTML form (or a no-cors fetch) can send
 *    (`text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data`, or none at all).
 *    Anything else makes the browser ask with a CORS preflight, which this server never grants.
 *    The drop page uploads as `application/octet-stream`; curl users send `text/csv`.
 *
 * Routes added later (approve, cancel from the page) are covered without doing anything.
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Content types a cross-site form or no-cors fetch can send without a preflight. */
const SIMPLE_CONTENT_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);
const SAME_ORIGIN_FETCH_SITES = new Set(['same-origin', 'none']);

export interface CsrfRequest {
  method: string;
  /** The host this request was addressed to (`Host`, or `X-Forwarded-Host` behind a trusted proxy). */
  host: string;
  headers: Record<string, string | string[] | undefined>;
}

function header(req: CsrfRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Why a request must be refused as possibly forged, or undefined when it may go on. */
export function forgeryReason(req: CsrfRequest): string | undefined {
  const method = req.method.toUpperCase();
  if (SAFE_METHODS.has(method)) return undefined;
  const site = header(req, 'sec-fetch-site')?.toLowerCase();
  if (site !== undefined && !SAME_ORIGIN_FETCH_SITES.has(site))
    return `cross-site request refused (Sec-Fetch-Site: ${site})`;
  const origin = header(req, 'origin');
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host === undefined || host.toLowerCase() !== req.host.toLowerCase())
      return 'cross-site request refused (its Origin is not this server)';
  }
  if (method === 'POST') {
    const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === '' || SIMPLE_CONTENT_TYPES.has(type))
      return `a POST must say what it sends with a content type other than ${type === '' ? 'none' : type} (cross-site request protection): send a file as text/csv, application/json, application/x-ndjson or application/octet-stream`;
  }
  return undefined;
}

/**
 * One onRequest hook in front of every route: state-changing requests that may be forged get 403
 * before their body is read. `exempt` paths verify their callers themselves (the signed webhook).
 */
export function installCsrfGuard(app: FastifyInstance, options: { exempt: ReadonlySet<string> }): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (SAFE_METHODS.has(request.method)) return;
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    if (options.exempt.has(q < 0 ? url : url.slice(0, q))) return;
    const reason = forgeryReason({ method: request.method, host: request.host, headers: request.headers });
    if (reason === undefined) return;
    void reply.header('connection', 'close');
    return reply.code(403).send({ error: { code: 'FORBIDDEN', message: reason } });
  });
}
