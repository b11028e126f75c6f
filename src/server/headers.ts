import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every response (docs/security.md#what-the-server-sends): no framing by
 * another site (clickjacking), no content sniffing, no referrer, and no caching unless a route
 * chose otherwise: drop data, reports and metrics are personal or operational and must not sit in
 * a browser or proxy cache. The drop page sets its own full Content-Security-Policy.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('content-security-policy'))
      void reply.header('content-security-policy', "frame-ancestors 'none'");
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });
}
