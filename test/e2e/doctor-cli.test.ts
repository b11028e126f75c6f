import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/demo/processes.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../helpers/redis.ts';
import { startSimulator, type StartedSimulator } from '../helpers/simulator.ts';

// The `provision doctor` process: its JSON shape, its exit codes (0 no fail, 1 a fail, 2 usage)
// and its human report, against the simulator and real redis-servers.

let sim: StartedSimulator;
let redis: PrivateRedis;
const prefixes: string[] = [];

beforeAll(async () => {
  [sim, redis] = await Promise.all([startSimulator(), startPrivateRedis()]);
});

afterAll(async () => {
  const r = testRedis();
  for (const prefix of prefixes) await deletePrefix(r, prefix);
  r.disconnect();
  await Promise.all([sim.close(), redis.stop()]);
});

/** A setup of its own: a fresh prefix, so no token is shared from an earlier run. */
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const prefix = uniquePrefix('doctor-cli');
  prefixes.push(prefix);
  return { PATH: process.env.PATH, CONCUR_BASE_URL: sim.baseUrl, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, ...extra };
};

describe('provision doctor (CLI)', () => {
  it('--json prints exactly {"checks":[{"name","status","detail"}],"ok"} and exits 0 when nothing fails', async () => {
    const res = await runCli(['doctor', '--json'], env());
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as { checks: Record<string, unknown>[]; ok: boolean };
    expect(Object.keys(report)).toEqual(['checks', 'ok']);
    expect(report.ok).toBe(true);
    expect(report.checks.length).toBeGreaterThanOrEqual(15);
    for (const c of report.checks) {
      expect(Object.keys(c)).toEqual(['name', 'status', 'detail']);
      expect(['pass', 'warn', 'fail']).toContain(c.status);
      expect(String(c.detail)).not.toContain('\n');
    }
  });

  it('prints one line per check and exits 1 when one fails', async () => {
    const res = await runCli(['doctor'], env({ CONCUR_CLIENT_SECRET: 'wrong-secret' }));
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(
      /^FAIL {2}token\.grant +Concur refused every credential \(code 64\): check CONCUR_CLIENT_SECRET/m,
    );
    expect(res.stdout).toMatch(/^PASS {2}redis\.persistence +AOF on/m);
    expect(res.stdout).toMatch(/checks: \d+ pass, \d+ warn, [1-9]\d* fail: not ready/);
    expect(res.stderr).toBe('');
  });

  it('exits 2 on bad usage', async () => {
    const res = await runCli(['doctor', '--format', 'xlsx'], env());
    expect(res.code).toBe(2);
  });
});
