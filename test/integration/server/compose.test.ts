import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const file = fileURLToPath(new URL('../../../docker-compose.yml', import.meta.url));

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[] };
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
}

// No Docker engine runs here: the file is checked by parsing (merge keys resolved), and by
// `docker-compose config` too when that tool is installed.
/** Compose's variable interpolation, enough for this file: `${X}`, `${X:-default}`, `${X:?error}`. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

describe('docker-compose.yml', () => {
  const raw = readFileSync(file, 'utf8');
  const doc = parse(raw, { merge: true }) as { services: Record<string, Service> };
  const s = doc.services;
  const env = {
    DASHBOARD_PASSWORD: 'a-long-dashboard-password',
    REDIS_PASSWORD: 'f00dfeed',
    TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  };
  const resolved = (parse(interpolate(raw, env), { merge: true }) as { services: Record<string, Service> }).services;

  it('runs Redis with AOF, noeviction and a healthcheck', () => {
    const redis = s.redis!;
    expect(redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('has the simulator, the server and every worker role with replicas', () => {
    expect(s.simulator?.command?.[0]).toBe('simulator');
    expect(s.server?.command?.slice(0, 1)).toEqual(['serve']);
    expect(s.server?.environment?.DASHBOARD_PASSWORD).toBeDefined();
    for (const role of ['identity', 'extension', 'status']) {
      const w = s[`worker-${role}`];
      expect(w?.command, role).toEqual(['worker', role]);
      expect(w?.deploy?.replicas, role).toBeGreaterThanOrEqual(1);
      expect(resolved[`worker-${role}`]?.environment?.REDIS_URL, role).toBe('redis://:f00dfeed@redis:6379');
      expect(w?.depends_on?.redis?.condition, role).toBe('service_healthy');
    }
  });

  it('sets a Redis password: the server requires it, every process and the healthcheck use it, and none is started without one', () => {
    const redis = resolved.redis!;
    expect(redis.command).toEqual(expect.arrayContaining(['--requirepass', 'f00dfeed']));
    expect(redis.environment?.REDISCLI_AUTH).toBe('f00dfeed');
    for (const [name, svc] of Object.entries(resolved))
      if (name !== 'redis') expect(svc.environment?.REDIS_URL, name).toBe('redis://:f00dfeed@redis:6379');
    expect(() => interpolate(raw, { ...env, REDIS_PASSWORD: '' })).toThrow(/REDIS_PASSWORD/);
  });

  it('gives every process that may call Concur the token sealing key, and starts none without it', () => {
    for (const [name, svc] of Object.entries(resolved))
      if (name !== 'redis') expect(svc.environment?.TOKEN_ENCRYPTION_KEY, name).toBe(env.TOKEN_ENCRYPTION_KEY);
    expect(() => interpolate(raw, { ...env, TOKEN_ENCRYPTION_KEY: '' })).toThrow(/TOKEN_ENCRYPTION_KEY/);
  });

  it('publishes ports on 127.0.0.1 only (a TLS proxy goes in front) and says so', () => {
    const published = Object.entries(s).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => [name, p] as const));
    expect(published.length).toBeGreaterThan(0);
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(raw).toMatch(/TLS-terminating[\s#]+reverse proxy/);
  });

  it('has a watch-folder producer on a mounted ./drops', () => {
    expect(s.watcher?.command).toEqual(['watch', '/drops']);
    expect(s.watcher?.volumes).toContain('./drops:/drops');
  });

  const tool = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!tool)('passes `docker-compose config`', () => {
    const res = spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});
