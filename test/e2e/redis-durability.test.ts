import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, waitUntil, type Child } from '../../src/demo/processes.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.ts';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.ts';

/*
 * Redis durability against real processes (docs/operations.md#redis-durability): a second
 * redis-server that evicts and keeps nothing on disk makes workers warn, or refuse to start with
 * REQUIRE_DURABLE_REDIS=true; the server's /metrics says provision_redis_durable 0 and /readyz
 * answers 503 when durability is required. A drop whose keys vanished when that Redis restarted
 * is reported as lost by `provision status` and GET /drops/:id.
 */

const NOT_DURABLE = ['--maxmemory-policy', 'allkeys-lru', '--save', '', '--appendonly', 'no'];

let fragile: PrivateRedis;
const children: Child[] = [];
const servers: ServerProcess[] = [];
let logDir: string;

beforeAll(async () => {
  fragile = await startPrivateRedis({ extraArgs: NOT_DURABLE });
  logDir = await mkdtemp(join(tmpdir(), 'provision-durability-'));
});
afterAll(async () => {
  for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await Promise.all(servers.map((s) => s.stop()));
  await fragile.stop();
  await rm(logDir, { recursive: true, force: true });
});

const baseEnv = (redisUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  REDIS_URL: redisUrl,
  QUEUE_PREFIX: uniquePrefix('durable'),
  LOG_LEVEL: 'info',
  ...extra,
});

async function metric(s: ServerProcess): Promise<string | undefined> {
  const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: s.auth } })).text();
  return /^provision_redis_durable (\d)/m.exec(text)?.[1];
}

describe('a Redis that evicts and keeps nothing on disk', () => {
  it('a worker warns at startup and its /readyz lists the problems, still ready', async () => {
    const port = await freePort();
    const worker = startCli(
      'worker-warn',
      ['worker', 'status'],
      baseEnv(fragile.url, { HEALTH_PORT: String(port) }),
      logDir,
    );
    children.push(worker);
    const log = async (): Promise<string> => readFile(worker.logFile, 'utf8').catch(() => '');
    await waitUntil(
      'durability warning',
      async () => (await log()).includes('Redis may lose or evict'),
      30_000,
      worker,
    );
    const line = (await log()).split('\n').find((l) => l.includes('Redis may lose or evict'))!;
    const entry = JSON.parse(line) as { level: number; problems: string[] };
    expect(entry.level).toBe(40);
    expect(entry.problems.join('\n')).toMatch(/maxmemory-policy is allkeys-lru, not noeviction/);
    expect(entry.problems.join('\n')).toMatch(/neither AOF \(appendonly no\) nor RDB snapshots/);
    let ready: Response | undefined;
    await waitUntil(
      'worker /readyz',
      async () => (ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)) !== undefined,
      30_000,
      worker,
    );
    expect(ready!.status).toBe(200);
    expect(((await ready!.json()) as { warnings: string[] }).warnings.join('\n')).toMatch(/allkeys-lru/);
    worker.process.kill('SIGTERM');
    await worker.exited;
  });

  it('with REQUIRE_DURABLE_REDIS=true every role refuses to start: exit 1 and a clear message', async () => {
    for (const args of [['worker', 'identity'], ['worker', 'extension'], ['serve']]) {
      const res = await runCli(args, baseEnv(fragile.url, { REQUIRE_DURABLE_REDIS: 'true', PORT: '0' }));
      expect(res.code, args.join(' ')).toBe(1);
      expect(res.stderr, args.join(' ')).toMatch(
        /Redis may lose or evict the pipeline's keys and REQUIRE_DURABLE_REDIS=true: maxmemory-policy is allkeys-lru/,
      );
    }
  });

  it('the server exports provision_redis_durable 0 and /readyz stays 200 with warnings', async () => {
    const s = await startServerProcess(uniquePrefix('durable-srv'), { REDIS_URL: fragile.url });
    servers.push(s);
    expect(await metric(s)).toBe('0');
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { warnings: string[] }).warnings.length).toBe(2);
  });

  it('a drop whose keys vanished in a restart is lost for `provision status` and GET /drops/:id', async () => {
    const env = baseEnv(fragile.url);
    const file = writeCsvDrop([person(1), person(2)], 'lost.csv', logDir);
    const ingest = await runCli(['ingest', file, '--json'], env);
    expect(ingest.code, ingest.stderr).toBe(0);
    const dropId = (JSON.parse(ingest.stdout.trim()) as { dropId: string }).dropId;
    expect(JSON.parse((await runCli(['status', dropId, '--json'], env)).stdout).status).toBe('running');

    // Evicted: the metadata is gone, the list of drops still names it.
    const redis = new Redis(fragile.url);
    await redis.del(`${env.QUEUE_PREFIX}:ledger:drop:${dropId}`);
    const listed = await runCli(['status', '--json'], env);
    expect(JSON.parse(listed.stdout).lost).toEqual([expect.objectContaining({ dropId, status: 'lost', traces: true })]);
    const s = await startServerProcess(env.QUEUE_PREFIX!, { REDIS_URL: fragile.url });
    servers.push(s);
    const evicted = await fetch(`${s.url}/drops/${dropId}`, { headers: { authorization: s.auth } });
    expect(evicted.status).toBe(410);
    expect(await evicted.json()).toMatchObject({ status: 'lost', error: { code: 'DROP_LOST' } });
    expect(
      ((await (await fetch(`${s.url}/drops`, { headers: { authorization: s.auth } })).json()) as { lost: string[] })
        .lost,
    ).toEqual([dropId]);
    redis.disconnect();

    // Restarted without persistence: nothing of it is left, and the status says lost, not "unknown".
    await fragile.kill();
    await fragile.restart();
    const status = await runCli(['status', dropId, '--json'], env);
    expect(status.code).toBe(3);
    const lost = JSON.parse(status.stdout) as { status: string; reason: string };
    expect(lost.status).toBe('lost');
    expect(lost.reason).toMatch(/Redis lost its keys/);
    expect(lost.reason).toMatch(/appendonly no/);
    const text = await runCli(['status', dropId], env);
    expect(text.stdout).toMatch(new RegExp(`status\\s+lost: drop ${dropId} lost or unknown`));
    await waitUntil('server back on Redis', async () => (await fetch(`${s.url}/readyz`)).status === 200, 30_000);
    const gone = await fetch(`${s.url}/drops/${dropId}`, { headers: { authorization: s.auth } });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ status: 'lost', dropId });
  });
});

describe('REQUIRE_DURABLE_REDIS on a Redis that is durable, then is not', () => {
  it('/readyz turns 503 and the metric 0 when eviction is switched on at runtime', async () => {
    const solid = await startPrivateRedis();
    try {
      const s = await startServerProcess(uniquePrefix('durable-req'), {
        REDIS_URL: solid.url,
        REQUIRE_DURABLE_REDIS: 'true',
      });
      servers.push(s);
      expect(await metric(s)).toBe('1');
      expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
      const admin = new Redis(solid.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      // Settings are read at most every 10 s.
      await waitUntil('readyz 503', async () => (await fetch(`${s.url}/readyz`)).status === 503, 30_000);
      const body = (await (await fetch(`${s.url}/readyz`)).json()) as { failing: string[] };
      expect(body.failing.join('\n')).toMatch(/redis not durable: maxmemory-policy is allkeys-lru/);
      expect(await metric(s)).toBe('0');
      await s.stop();
    } finally {
      await solid.stop();
    }
  });
});

describe('the main Redis', () => {
  it('provision_redis_durable says what its settings truly are', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const [, aof] = (await redis.config('GET', 'appendonly')) as string[];
    const [, save] = (await redis.config('GET', 'save')) as string[];
    const expected = policy === 'noeviction' && (aof === 'yes' || (save ?? '').trim() !== '') ? '1' : '0';
    const prefix = uniquePrefix('durable-main');
    const s = await startServerProcess(prefix);
    servers.push(s);
    expect(await metric(s)).toBe(expected);
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
});
