import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const ASSETS: Record<string, { file: string; type: string }> = {
  'page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  'page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
};

// Only our own files, no inline script: a drop's values can never run as code in the page.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

/** The drop page at `/` and its two assets (read once, served from memory). */
export function registerPage(app: FastifyInstance): void {
  const dir = new URL('./public/', import.meta.url);
  const html = readFileSync(new URL('index.html', dir), 'utf8');
  const assets = new Map(
    Object.entries(ASSETS).map(([name, a]) => [
      name,
      { body: readFileSync(new URL(a.file, dir), 'utf8'), type: a.type },
    ]),
  );
  app.get('/', async (_request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-cache')
      .send(html),
  );
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return reply.code(404).send({ error: 'not found' });
    return reply.header('content-type', asset.type).header('cache-control', 'no-cache').send(asset.body);
  });
}
