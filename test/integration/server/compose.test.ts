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
  depends_on?: Record<string, { condition?: string }>;
}

// No Docker engine runs here: the file is checked by parsing (merge keys resolved), and by
// `docker-compose config` too when that tool is installed.
describe('docker-compose.yml', () => {
  const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const s = doc.services;

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
      expect(w?.environment?.REDIS_URL, role).toBe('redis://redis:6379');
      expect(w?.depends_on?.redis?.condition, role).toBe('service_healthy');
    }
  });

  it('has a watch-folder producer on a mounted ./drops', () => {
    expect(s.watcher?.command).toEqual(['watch', '/drops']);
    expect(s.watcher?.volumes).toContain('./drops:/drops');
  });

  const tool = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!tool)('passes `docker-compose config`', () => {
    const res = spawnSync('docker-compose', ['-f', file, 'config', '-q'], {
      encoding: 'utf8',
      env: { ...process.env, DASHBOARD_PASSWORD: 'x' },
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});
