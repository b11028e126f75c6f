import { fail, notChecked, pass, reasonOf, warn, type Check } from './check.ts';
import type { DoctorEnv } from './env.ts';

// Redis holds the queues and the ledger: it must answer, never evict a key, and survive a restart
// (docs/operations.md#redis).

const PING_TIMEOUT_MS = 5_000;
/** BullMQ refuses older servers, and recommends 6.2 or later. */
const MINIMUM_VERSION = [5, 0, 0];
const RECOMMENDED_VERSION = [6, 2, 0];

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `INFO` as a map of its `key:value` lines. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

function versionBelow(version: string, floor: number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < floor.length; i += 1) {
    const a = parts[i] ?? 0;
    const b = floor[i] ?? 0;
    if (a !== b) return a < b;
  }
  return false;
}

/** REDIS_URL without its password, for messages. */
function shownUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export async function redisChecks(env: DoctorEnv): Promise<Check[]> {
  const where = shownUrl(env.config.REDIS_URL);
  let info: Map<string, string>;
  try {
    const started = performance.now();
    await withTimeout(env.redis.ping(), PING_TIMEOUT_MS, 'PING');
    const ms = Math.round(performance.now() - started);
    info = parseInfo(await env.redis.info());
    env.redisUp = true;
    const checks = [pass('redis.reachable', `${where} answered PING in ${ms} ms`)];
    return [...checks, version(info), eviction(info), await persistence(env, info)];
  } catch (err) {
    if (env.redisUp) throw err;
    const because = 'Redis did not answer (redis.reachable)';
    return [
      fail(
        'redis.reachable',
        `${where}: ${reasonOf(err)}; start Redis or point REDIS_URL at it (password and TLS in the URL: docs/configuration.md)`,
      ),
      notChecked('redis.version', because),
      notChecked('redis.eviction', because),
      notChecked('redis.persistence', because),
    ];
  }
}

function version(info: Map<string, string>): Check {
  const v = info.get('redis_version') ?? info.get('valkey_version');
  if (!v) return warn('redis.version', 'INFO gave no redis_version: check the server is Redis 6.2 or later');
  if (versionBelow(v, MINIMUM_VERSION)) return fail('redis.version', `Redis ${v}: BullMQ needs 5.0 or later; upgrade`);
  if (versionBelow(v, RECOMMENDED_VERSION))
    return warn('redis.version', `Redis ${v}: BullMQ recommends 6.2 or later; plan an upgrade`);
  return pass('redis.version', `Redis ${v}`);
}

function eviction(info: Map<string, string>): Check {
  const policy = info.get('maxmemory_policy');
  if (policy === undefined)
    return warn(
      'redis.eviction',
      'INFO gave no maxmemory_policy: make sure the server runs maxmemory-policy noeviction',
    );
  if (policy === 'noeviction')
    return pass('redis.eviction', 'maxmemory-policy noeviction: a full Redis refuses writes');
  return fail(
    'redis.eviction',
    `maxmemory-policy ${policy}: under memory pressure Redis deletes queued jobs and ledger rows; set maxmemory-policy noeviction`,
  );
}

async function persistence(env: DoctorEnv, info: Map<string, string>): Promise<Check> {
  if (info.get('aof_enabled') === '1')
    return pass('redis.persistence', 'AOF on: a restart keeps the queues and the ledger');
  let save: string | undefined;
  try {
    // Managed services may refuse CONFIG: then only the AOF is known.
    const reply = (await env.redis.config('GET', 'save')) as string[];
    save = reply[1] ?? '';
  } catch {
    save = undefined;
  }
  if (save === undefined)
    return warn(
      'redis.persistence',
      'AOF off and CONFIG GET save refused: make sure the server persists (appendonly yes)',
    );
  if (save.trim() !== '')
    return warn(
      'redis.persistence',
      `AOF off, RDB snapshots only (save ${save}): a crash loses what came after the last snapshot; set appendonly yes`,
    );
  return warn(
    'redis.persistence',
    'no AOF and no RDB snapshots: a Redis restart loses every queued job and the ledger; set appendonly yes',
  );
}
