import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, freePort, startChild, startCli, stopAll, waitUntil, type Child } from '../../src/demo/processes.ts';
import { ingestDrop, type IngestResult } from '../../src/producers/ingest.ts';
import { Ledger, type DropView } from '../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createQueues, type PipelineQueues, type QueueName } from '../../src/shared/queues/index.ts';
import { createRedis, type RedisConnection } from '../../src/shared/redis.ts';
import { ensureBuilt } from './build.ts';
import { SimClient } from './sim.ts';

export type Role = QueueName;

/**
 * Short extension linger and status delays, so a drop's tail is not just waiting (as the
 * throughput figures of docs/benchmarks.md are taken).
 */
export const SHORT_TAIL_ENV = {
  EXTENSION_LINGER_MS: '200',
  STATUS_FIRST_DELAY_MS: '500',
  STATUS_MAX_DELAY_MS: '2000',
} as const;

/** No limits on either side: no rate limits, no extension processing delay, and the short tail. */
export const NO_LIMITS_ENV = {
  IDENTITY_MAX_RPS: '0',
  UPS_MAX_RPS: '0',
  SIM_EXTENSION_DELAY_MS: '0',
  ...SHORT_TAIL_ENV,
} as const;

export interface BenchStackOptions {
  redisUrl: string;
  /** Worker processes per role to start at once (default one each, the README's layout). */
  workers?: Partial<Record<Role, number>>;
  /** Environment of every child (simulator knobs as SIM_*, pipeline settings). */
  env?: Record<string, string>;
  /** Node options for the workers of a role only (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  workerNodeArgs?: Partial<Record<Role, string[]>>;
}

export interface BenchStack {
  prefix: string;
  env: NodeJS.ProcessEnv;
  sim: SimClient;
  ledger: Ledger;
  queues: PipelineQueues;
  redis: RedisConnection;
  /** Starts `n` more workers of a role and waits until they listen on their queue. */
  addWorkers(role: Role, n: number): Promise<void>;
  /** Stops every worker (the simulator keeps running and keeps its state). */
  stopWorkers(): Promise<void>;
  ingest(path: string, force?: boolean): Promise<IngestResult>;
  /** Polls the ledger until the drop is complete; `onTick` sees every view (for sampling). */
  waitComplete(
    dropId: string,
    options?: { timeoutMs?: number; intervalMs?: number; onTick?: (view: DropView) => void | Promise<void> },
  ): Promise<DropView>;
  /** The simulator and worker processes running now (their pids, for /proc figures). */
  processes(): Child[];
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The simulator and the workers as real processes through bin/provision.js (what an operator
 * runs), on a private key prefix; the benchmark itself is the producer. Same approach as the e2e
 * tests' stack, with settings chosen per benchmark instead of for speed of tests.
 */
export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  ensureBuilt();
  const prefix = `{bench-${randomBytes(4).toString('hex')}}`;
  const logDir = await mkdtemp(join(tmpdir(), 'provision-bench-'));
  const simPort = await freePort();
  const simUrl = `http://127.0.0.1:${simPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: prefix,
    CONCUR_BASE_URL: simUrl,
    SIM_PORT: String(simPort),
    SIM_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SHUTDOWN_DEADLINE_MS: '10000',
    ...options.env,
  };
  const log = createLogger({ level: 'warn' }, process.stderr);
  const redis = createRedis(options.redisUrl, 'producer', log);
  const ledger = new Ledger(redis, prefix);
  const queues = createQueues(redis, prefix, log);
  const simChildren: Child[] = [];
  const workers: Child[] = [];
  const started: Record<Role, number> = { identity: 0, extension: 0, status: 0 };

  const all = (): Child[] => [...simChildren, ...workers];
  const assertAlive = (): void => {
    const dead = all().find((c) => c.process.exitCode !== null || c.process.signalCode !== null);
    if (dead)
      throw new Error(
        `${dead.name} exited (${String(dead.process.exitCode ?? dead.process.signalCode)}); log: ${dead.logFile}`,
      );
  };

  const spawnWorkers = (role: Role, n: number): void => {
    for (let i = 0; i < n; i += 1) {
      started[role] += 1;
      const name = `worker-${role}-${started[role]}`;
      const nodeArgs = options.workerNodeArgs?.[role] ?? [];
      workers.push(
        nodeArgs.length === 0
          ? startCli(name, ['worker', role], env, logDir)
          : startChild(name, process.execPath, [...nodeArgs, CLI_PATH, 'worker', role], env, logDir),
      );
    }
  };
  const workersReady = (role: Role): Promise<void> =>
    waitUntil(
      `${role} workers`,
      async () => {
        assertAlive();
        return (await queues[role].getWorkersCount()) >= started[role];
      },
      60_000,
    );
  const addWorkers = async (role: Role, n: number): Promise<void> => {
    spawnWorkers(role, n);
    await workersReady(role);
  };

  const stopWorkers = async (): Promise<void> => {
    await stopAll(workers.splice(0), 15_000);
    for (const r of Object.keys(started) as Role[]) started[r] = 0;
  };

  const logs = async (): Promise<string> => {
    const parts = await Promise.all(
      all().map(async (c) => `--- ${c.name} ---\n${(await readFile(c.logFile, 'utf8').catch(() => '')).slice(-3000)}`),
    );
    return parts.join('\n');
  };

  const stop = async (): Promise<void> => {
    await stopAll(all(), 15_000);
    await queues.close();
    await redis.quit().catch(() => redis.disconnect());
    await rm(logDir, { recursive: true, force: true });
  };

  try {
    // Everything starts at once (each process spends seconds loading); workers only need Redis.
    const sim = startCli('simulator', ['simulator'], env, logDir);
    simChildren.push(sim);
    const roles = (['identity', 'extension', 'status'] as const).filter((role) => (options.workers?.[role] ?? 1) > 0);
    for (const role of roles) spawnWorkers(role, options.workers?.[role] ?? 1);
    await waitUntil('simulator', async () => (await fetch(`${simUrl}/_sim/config`)).ok, 30_000, sim);
    for (const role of roles) await workersReady(role);
  } catch (err) {
    const tail = await logs();
    await stop();
    throw new Error(`${(err as Error).message}\n${tail}`);
  }

  return {
    prefix,
    env,
    sim: new SimClient(simUrl),
    ledger,
    queues,
    redis,
    addWorkers,
    stopWorkers,
    ingest: (path, force = false) => ingestDrop({ ledger, identityQueue: queues.identity, log }, { path, force }),
    waitComplete: async (dropId, o = {}) => {
      const end = Date.now() + (o.timeoutMs ?? 30 * 60_000);
      for (;;) {
        const view = await ledger.getDrop(dropId);
        if (!view) throw new Error(`unknown drop ${dropId}`);
        await o.onTick?.(view);
        if (view.meta.status === 'complete') return view;
        try {
          assertAlive();
        } catch (err) {
          throw new Error(`${(err as Error).message}\n${await logs()}`);
        }
        if (Date.now() > end) throw new Error(`drop ${dropId} not complete in time: ${JSON.stringify(view.counts)}`);
        await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
      }
    },
    processes: all,
    logs,
    stop,
  };
}
