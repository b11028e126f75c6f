import { QueueEvents, Worker, type Processor } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/logger.ts';
import { WORKER_SETTINGS } from '../../../src/shared/queues/common.ts';
import {
  createQueues,
  EXTENSION_QUEUE,
  IDENTITY_QUEUE,
  queueKeyPrefix,
  STATUS_QUEUE,
  type PipelineQueues,
} from '../../../src/shared/queues/index.ts';
import { createExtensionProcessor } from '../../../src/workers/extension/processor.ts';
import { createIdentityProcessor } from '../../../src/workers/identity/processor.ts';
import { createStatusProcessor } from '../../../src/workers/status/processor.ts';
import { failedForGood } from '../../../src/workers/start-worker.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

/*
 * A job whose data does not fit its queue's schema (an older version queued it, or a hand-made
 * add) fails on its first attempt, for good: no retry can make it fit. The processors run in real
 * BullMQ workers on real Redis, with the queues' own default options (12 attempts for identity).
 */

const log = createLogger({ level: 'silent' });
/** A processor must not reach its dependencies before it has parsed its job: it gets none. */
const none = { log, options: {} } as never;

const stages: { queue: string; processor: () => Processor; badData: unknown; expected: RegExp }[] = [
  {
    queue: IDENTITY_QUEUE,
    processor: () => createIdentityProcessor(none) as unknown as Processor,
    badData: { dropId: 'd1', rows: ['1'] },
    expected: /^Bad identity job data \(job bad-1\): rows\.0: /,
  },
  {
    queue: EXTENSION_QUEUE,
    processor: () => createExtensionProcessor(none) as Processor,
    badData: { kind: 'send' },
    expected: /^Bad extension job data \(job bad-1\): /,
  },
  {
    queue: STATUS_QUEUE,
    processor: () => createStatusProcessor(none) as Processor,
    badData: { provisionId: 42 },
    expected: /^Bad status job data \(job bad-1\): provisionId: /,
  },
];

const open: { close(): Promise<unknown> }[] = [];
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  await cleanup?.();
});

describe('bad job data', () => {
  it.each(stages)(
    'fails a $queue job on its first attempt, unrecoverable',
    async ({ queue, processor, badData, expected }) => {
      const redis = testRedis();
      const prefix = uniquePrefix('badjob');
      const queues: PipelineQueues = createQueues(redis, prefix, log);
      cleanup = async () => {
        await queues.close();
        await deletePrefix(redis, prefix);
        redis.disconnect();
      };
      const q = queues.all.find((x) => x.name === queue)!;
      const events = new QueueEvents(queue, { connection: redis.duplicate(), prefix: queueKeyPrefix(prefix, queue) });
      open.push(events);
      await events.waitUntilReady();
      const failed = new Promise<string>((resolve) => events.on('failed', ({ failedReason }) => resolve(failedReason)));
      const worker = new Worker(queue, processor(), {
        connection: redis.duplicate(),
        prefix: queueKeyPrefix(prefix, queue),
        settings: WORKER_SETTINGS,
      });
      open.push(worker);
      worker.on('error', () => undefined);

      const job = await q.add(queue, badData, { jobId: 'bad-1' });
      expect(await failed).toMatch(expected);
      const after = (await q.getJob(job.id!))!;
      expect(after.attemptsMade).toBe(1);
      expect(after.opts.attempts ?? 1).toBeGreaterThan(1);
      expect(await after.getState()).toBe('failed');
      expect(failedForGood(after, { name: 'UnrecoverableError' })).toBe(true);
    },
  );
});
