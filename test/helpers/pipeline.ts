import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { afterEach, beforeEach } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/shared/config.ts';
import { createConcurClient } from '../../src/shared/concur/index.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createQueues, type PipelineQueues } from '../../src/shared/queues/index.ts';
import { SharedRateLimiter } from '../../src/shared/rate-limiter.ts';
import { DEFAULT_RETRY } from '../../src/shared/concur/retry.ts';
import { identityStage } from '../../src/workers/identity/stage.ts';
import { createStageWorker } from '../../src/workers/start-worker.ts';
import { TEST_REDIS_URL, deletePrefix, uniquePrefix } from './redis.ts';
import { startSimulator, type StartedSimulator } from './simulator.ts';
import type { SimulatorOptions } from '../../src/simulator/app.ts';

export interface PipelineHarness {
  config: Config;
  prefix: string;
  redis: Redis;
  ledger: Ledger;
  queues: PipelineQueues;
  /** Starts an in-process identity worker (call again for more); `companyId` overrides the config's (a wrong company). */
  startIdentityWorker(options?: { concurrency?: number; companyId?: string }): Worker;
  close(): Promise<void>;
}

/** Config, Redis, ledger and queues on a fresh prefix, pointed at a simulator. */
export function pipelineHarness(baseUrl: string, env: Record<string, string> = {}): PipelineHarness {
  const prefix = uniquePrefix('pipe');
  const config = loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    CONCUR_BASE_URL: baseUrl,
    LOG_LEVEL: 'silent',
    IDENTITY_MAX_RPS: '0',
    ...env,
  });
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const log = createLogger({ level: config.LOG_LEVEL });
  const ledger = new Ledger(redis, prefix);
  const queues = createQueues(redis, prefix, log);
  const workers: Worker[] = [];
  const clients: { close(): Promise<void> }[] = [];
  return {
    config,
    prefix,
    redis,
    ledger,
    queues,
    startIdentityWorker(options = {}) {
      const limiter = new SharedRateLimiter(redis, `${prefix}:ratelimit:identity`, { rps: config.IDENTITY_MAX_RPS });
      const concur = createConcurClient({ config, redis, log, gates: { identity: limiter } });
      clients.push(concur);
      // The stage main.ts starts, with faster call retries; its chores are driven by the tests.
      const stage = identityStage({
        config,
        redis,
        ledger,
        queues,
        log,
        identity: concur.identity,
        block: (ms) => limiter.block(ms),
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        overrides: {
          retry: { ...DEFAULT_RETRY, baseMs: 50, maxMs: 500 },
          ...(options.companyId ? { companyId: options.companyId } : {}),
        },
      });
      const worker = createStageWorker(
        { connection: redis, prefix, lockMs: config.WORKER_LOCK_MS, log },
        stage.queue,
        stage.processor,
        stage.worker,
      );
      worker.on('error', () => undefined);
      workers.push(worker);
      return worker;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(clients.map((c) => c.close()));
      await queues.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
    },
  };
}

/** Polls until the drop is complete (or the timeout passes, then throws with its counts). */
export async function waitForComplete(ledger: Ledger, dropId: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await ledger.getDrop(dropId);
    if (view?.meta.status === 'complete') return;
    if (process.env.DEBUG_WAIT) console.log(JSON.stringify(view?.counts));
    if (Date.now() > deadline)
      throw new Error(
        `drop ${dropId} not complete after ${timeoutMs} ms: ${JSON.stringify(view?.counts)} status ${view?.meta.status}`,
      );
    await new Promise((r) => setTimeout(r, process.env.DEBUG_WAIT ? 2000 : 100));
  }
}

export function nonce(): string {
  return randomBytes(3).toString('hex');
}

/**
 * A fresh simulator and pipeline harness for every test of the file, closed after it. Read them
 * as `t.sim` and `t.h` inside tests (they change from one test to the next).
 */
export function simulatorPipeline(
  env: Record<string, string> = {},
  simulator: SimulatorOptions = {},
): {
  readonly sim: StartedSimulator;
  readonly h: PipelineHarness;
} {
  const ctx = {} as { sim: StartedSimulator; h: PipelineHarness };
  beforeEach(async () => {
    ctx.sim = await startSimulator(simulator);
    ctx.h = pipelineHarness(ctx.sim.baseUrl, env);
  });
  afterEach(async () => {
    await ctx.h.close();
    await ctx.sim.close();
  });
  return ctx;
}
