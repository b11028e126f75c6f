import type { Processor, Worker } from 'bullmq';
import type { Config } from '../shared/config.ts';
import type { Ledger } from '../shared/ledger/ledger.ts';
import type { Logger } from '../shared/logger.ts';
import type { PipelineQueues } from '../shared/queues/index.ts';
import type { RedisConnection } from '../shared/redis.ts';
import type { Runtime } from '../shared/runtime.ts';
import { startNotifier } from './notifier.ts';
import { startWorker, type StartWorkerOptions } from './start-worker.ts';

/** What every stage is built from: a process's runtime, or a test's Redis, prefix and queues. */
export interface StageParts {
  config: Config;
  redis: RedisConnection;
  ledger: Ledger;
  queues: PipelineQueues;
  log: Logger;
}

/** A chore that runs beside a stage's worker (a repair, a sweep), until stopped. */
export interface StageChore {
  name: string;
  start(): { stop(): Promise<void> | void };
}

/**
 * One stage of the pipeline, wired once (docs/architecture.md#process-roles): its queue, its
 * processor, its worker options and the chores beside it. The worker commands start it with
 * `startStage`; test helpers make its worker with `createStageWorker` and drive the chores
 * themselves.
 */
export interface Stage {
  queue: string;
  processor: Processor;
  worker: StartWorkerOptions;
  /** Runs once the worker is up (catching up on what a crash left behind). */
  recover?: () => Promise<unknown>;
  chores: StageChore[];
}

/**
 * Starts a stage in a process: its worker, its recovery, then its chores, each with a shutdown
 * step. Every stage's process also announces drop events when notifications are configured
 * (docs/operations.md#notifications): several processes doing so still send each event once.
 */
export async function startStage(rt: Runtime, stage: Stage): Promise<Worker> {
  const worker = startWorker(rt, stage.queue, stage.processor, stage.worker);
  await stage.recover?.();
  for (const chore of stage.chores) {
    const started = chore.start();
    rt.shutdown.register(chore.name, () => started.stop());
  }
  startNotifier(rt);
  return worker;
}
