import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDrop, toCsv } from '../../src/demo/generate.ts';
import { onPath, runCli, stopAll } from '../../src/demo/processes.ts';
import { startStack } from '../helpers/stack.ts';
import { startPrivateRedis } from '../helpers/redis-server.ts';
import { simState } from '../chaos/harness.ts';

const SECRETS = {
  clientSecret: 'cs-9f3b1c7e5a-secret',
  requestToken: 'rt-51d2e8a0c4-request',
  redisPassword: 'redis-pw-7c1e9b',
};
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/*
 * A small drop through real processes at LOG_LEVEL=debug, on a private Redis that requires a
 * password (REDIS_URL=redis://:pass@...): it completes, and no log line holds a token, a secret,
 * the Redis password, an email or a person's name.
 */
describe.skipIf(!onPath('redis-server'))('secrets stay out of the logs; Redis with a password', () => {
  it('runs a drop on a password-protected Redis and logs no secret and no personal data', async () => {
    const redis = await startPrivateRedis({ password: SECRETS.redisPassword });
    const stack = await startStack({
      server: true,
      env: {
        REDIS_URL: redis.url,
        LOG_LEVEL: 'debug',
        CONCUR_CLIENT_SECRET: SECRETS.clientSecret,
        SIM_CLIENT_SECRET: SECRETS.clientSecret,
        CONCUR_REQUEST_TOKEN: SECRETS.requestToken,
        SIM_REQUEST_TOKEN: SECRETS.requestToken,
        SIM_TOKEN_LIFETIME_S: '2',
      },
    });
    try {
      expect(redis.url).toContain(`:${SECRETS.redisPassword}@`);
      const drop = generateDrop({ people: 40, seed: 3 });
      const file = join(stack.logDir, 'secrets.csv');
      await writeFile(file, toCsv(drop.records));
      const res = await runCli(['ingest', file, '--wait', '--json'], stack.env);
      const summary = JSON.parse(res.stdout.trim()) as { status: string; rows: number; states: Record<string, number> };
      expect(summary.status, res.stderr).toBe('complete');
      expect(summary.rows).toBe(40);
      const users = await simState(stack.simUrl);
      expect(users.length).toBeGreaterThan(0);

      // Let the last debug lines (metrics flush, token refresh) reach the files.
      await new Promise((r) => setTimeout(r, 2500));
      await stopAll(stack.children, 15_000);
      const logs =
        (await Promise.all(stack.children.map((c) => readFile(c.logFile, 'utf8')))).join('\n') +
        res.stderr +
        res.stdout.replace(/"dropId":"[^"]*"/, '');
      expect(logs.split('\n').length).toBeGreaterThan(20);
      expect(logs).toMatch(/"level":20/); // debug lines really were written

      const needles: string[] = [SECRETS.clientSecret, SECRETS.requestToken, SECRETS.redisPassword];
      for (const r of drop.records) needles.push(r.email, r.userName, r.givenName, r.familyName);
      const found = [...new Set(needles)].filter((n) => n && new RegExp(`\\b${escape(n)}\\b`).test(logs));
      expect(found).toEqual([]);
      // Tokens are random: look for their shapes instead.
      expect(logs).not.toMatch(/Bearer\s+[A-Za-z0-9._-]{8,}/);
      expect(logs).not.toMatch(/"(access_token|refresh_token|accessToken|refreshToken)"\s*:\s*"[^"]{8,}/);
      expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    } finally {
      await stack.stop();
      await redis.stop();
    }
  });

  it.skipIf(!onPath('openssl'))(
    'runs a drop on Redis over TLS (rediss://, a private CA trusted through NODE_EXTRA_CA_CERTS)',
    async () => {
      const redis = await startPrivateRedis({ tls: true, password: SECRETS.redisPassword });
      const stack = await startStack({ env: { REDIS_URL: redis.url, NODE_EXTRA_CA_CERTS: redis.caFile! } });
      try {
        expect(redis.url).toMatch(/^rediss:\/\//);
        const drop = generateDrop({ people: 40, seed: 4 });
        const file = join(stack.logDir, 'tls.csv');
        await writeFile(file, toCsv(drop.records));
        const res = await runCli(['ingest', file, '--wait', '--json'], stack.env);
        const summary = JSON.parse(res.stdout.trim()) as { status: string; states: Record<string, number> };
        expect(summary.status, res.stderr).toBe('complete');
        expect(summary.states.done).toBe(40 - drop.bad.length - drop.deactivated.length);
        // Without the CA the same URL is refused: the connection really is TLS, and verified.
        const untrusted = await runCli(['status', '--json'], { ...stack.env, NODE_EXTRA_CA_CERTS: '' });
        expect(untrusted.code).toBe(3);
        expect(untrusted.stderr).toMatch(/certificate|self[- ]signed|redis/i);
        const trusted = await runCli(['status', '--json'], stack.env);
        expect(trusted.code, trusted.stderr).toBe(0);
      } finally {
        await stack.stop();
        await redis.stop();
      }
    },
  );
});
