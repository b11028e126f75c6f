import { Redis, Cluster, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';
import { namespaceKeyPrefixes } from './keys.ts';
import { ProvError } from './errors.ts';

/**
 * Connection roles:
 * - `worker`: waits through outages (BullMQ workers require `maxRetriesPerRequest: null`).
 * - `producer` / `server`: fail fast so a command or an HTTP request errors instead of hanging.
 */
export type RedisRole = 'worker' | 'producer' | 'server';

export type RedisConnection = Redis | Cluster;

interface ParsedRedisUrl {
  cluster: boolean;
  nodes: { host: string; port: number }[];
  options: RedisOptions;
}

/**
 * `REDIS_URL` forms: `redis://[user:pass@]host:port[/db]`, `rediss://...` (TLS), or a cluster as
 * `redis+cluster://[user:pass@]host1:port1,host2:port2,...` (also `rediss+cluster://`). The cluster
 * hosts are seeds: one reachable node is enough, the client learns the others from it (listing
 * several survives one being down). A cluster has no `/db`.
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const match = /^(rediss?)(\+cluster)?:\/\/(.*)$/.exec(url);
  if (!match)
    throw new Error(
      `REDIS_URL must start with redis://, rediss://, redis+cluster:// or rediss+cluster:// (got "${url.split('://')[0]}://...")`,
    );
  const [, scheme, clusterSuffix, rest = ''] = match;
  const tls = scheme === 'rediss';
  const at = rest.lastIndexOf('@');
  const auth = at >= 0 ? rest.slice(0, at) : '';
  const hostPart = at >= 0 ? rest.slice(at + 1) : rest;
  const [hostsRaw = '', dbRaw] = hostPart.split('/');
  const options: RedisOptions = {};
  if (auth) {
    const colon = auth.indexOf(':');
    const user = colon >= 0 ? auth.slice(0, colon) : '';
    const pass = colon >= 0 ? auth.slice(colon + 1) : auth;
    if (user) options.username = decodeURIComponent(user);
    if (pass) options.password = decodeURIComponent(pass);
  }
  if (dbRaw && dbRaw !== '') options.db = Number(dbRaw);
  if (tls) options.tls = {};
  const nodes = hostsRaw
    .split(',')
    .filter(Boolean)
    .map((hp) => {
      const idx = hp.lastIndexOf(':');
      const host = idx > 0 ? hp.slice(0, idx).replace(/^\[|\]$/g, '') : hp;
      const port = idx > 0 ? Number(hp.slice(idx + 1)) : 6379;
      return { host, port };
    });
  if (nodes.length === 0) nodes.push({ host: '127.0.0.1', port: 6379 });
  return { cluster: clusterSuffix !== undefined || nodes.length > 1, nodes, options };
}

function roleOptions(role: RedisRole): RedisOptions {
  if (role === 'worker') {
    return { maxRetriesPerRequest: null, enableReadyCheck: true };
  }
  return { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 5_000 };
}

/** Creates a Redis (or Redis Cluster) connection for a role, with an error listener attached. */
export function createRedis(url: string, role: RedisRole, log?: Logger): RedisConnection {
  const parsed = parseRedisUrl(url);
  const options: RedisOptions = { ...parsed.options, ...roleOptions(role), lazyConnect: false };
  let conn: RedisConnection;
  if (parsed.cluster) {
    const { db: _db, ...redisOptions } = options;
    conn = new Cluster(parsed.nodes, {
      redisOptions,
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
      // With TLS, connect to the names as given (not their resolved IPs) so the certificate's
      // host name matches: what managed clusters such as ElastiCache need (ioredis README).
      ...(options.tls
        ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) }
        : {}),
    });
  } else {
    const node = parsed.nodes[0] ?? { host: '127.0.0.1', port: 6379 };
    conn = new Redis({ host: node.host, port: node.port, ...options });
  }
  // An unhandled 'error' event would crash the process; log it instead (ioredis reconnects).
  conn.on('error', (err: Error) =>
    log?.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'redis connection error'),
  );
  return conn;
}

/** A SCAN MATCH pattern for "starts with `text`": glob characters in it are matched literally. */
function startsWithPattern(text: string): string {
  return `${text.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/**
 * Deletes every key of a pipeline namespace (a `QUEUE_PREFIX`): keys under the prefix and under
 * each queue's key prefix (`{x}` also covers `{x_identity}:identity:…`, see keys.ts). SCAN in
 * pages, never KEYS, on every master of a cluster: a demo's or a test's private namespace.
 */
export async function deleteKeysByPrefix(redis: RedisConnection, prefix: string): Promise<void> {
  const cluster = redis instanceof Cluster;
  // A cluster knows its masters only once it has loaded the slot table; a command waits for that.
  if (cluster) await redis.ping();
  const nodes: Redis[] = cluster ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    for (const keyPrefix of namespaceKeyPrefixes(prefix)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', startsWithPattern(keyPrefix), 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        // In a cluster the keys of one page may live in different slots: one UNLINK per key there.
        if (cluster) await Promise.all(keys.map((key) => node.unlink(key)));
        else await node.unlink(...keys);
      } while (cursor !== '0');
    }
  }
}

/** Where a REDIS_URL points, without its credentials: for messages. */
export function redisWhere(url: string): string {
  try {
    return parseRedisUrl(url)
      .nodes.map((n) => `${n.host}:${n.port}`)
      .join(',');
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * Waits until a fail-fast connection is ready; on its first connection error (or after
 * `timeoutMs`) closes it and throws PROV_ERR_REDIS in one line: what a one-shot command prints
 * when Redis is down, instead of a retry log and a stack trace (docs/errors.md#exit-codes).
 */
export async function readyOrFail(conn: RedisConnection, url: string, timeoutMs = 5_000): Promise<void> {
  if (conn.status === 'ready') return;
  const problem = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    const onReady = (): void => done(undefined);
    const onError = (err: Error & { code?: string }): void => done(err.code ?? err.message);
    function done(why: string | undefined): void {
      clearTimeout(timer);
      conn.off('ready', onReady);
      conn.off('error', onError);
      resolve(why);
    }
    conn.once('ready', onReady);
    conn.on('error', onError);
  });
  if (problem === undefined) return;
  conn.disconnect();
  throw new ProvError(
    'PROV_ERR_REDIS',
    `Redis at ${redisWhere(url)} is unreachable (${problem}): start it, or point REDIS_URL at it`,
  );
}
