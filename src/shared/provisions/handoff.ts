import type { Logger } from '../logger.ts';
import { defineScript, type LuaScript } from '../lua.ts';
import type { RedisConnection } from '../redis.ts';
import type { PipelineQueues } from '../queues/index.ts';
import { BULK_MAX_OPERATIONS } from '../concur/ups.ts';
import { provisionKeys } from '../keys.ts';
import { flushJobId, lingerFlushJobId, type ExtensionJob } from '../queues/extension.ts';
import { entryOf } from './entries.ts';
import { readyMarksPrelude, sinceOf } from './store.ts';

const PUSH_READY: LuaScript = {
  name: 'provProvisionsPushReady',
  file: new URL('./lua/push-ready.lua', import.meta.url),
  prelude: readyMarksPrelude,
};

/**
 * Asks for the flush that cuts the waiting rows once the first of them has lingered `lingerMs`
 * since it was pushed (`headSince`; undefined: unknown, due now). Every caller that sees the same
 * first row asks for the same job, so rows pushed meanwhile join its batch instead of a flush of
 * their own; a batch that fills up first goes at once (the `fullOnly` flush).
 */
export async function enqueueLingerFlush(
  queue: Pick<PipelineQueues['extension'], 'add'>,
  headSince: number | undefined,
  lingerMs: number,
  now: number,
): Promise<void> {
  const due = headSince === undefined ? now : headSince + lingerMs;
  await queue.add('flush', { kind: 'flush', due } satisfies ExtensionJob, {
    jobId: lingerFlushJobId(due),
    delay: Math.max(0, due - now),
  });
}

export interface ExtensionHandoffOptions {
  redis: RedisConnection;
  queues: Pick<PipelineQueues, 'extension'>;
  /** The queue prefix (QUEUE_PREFIX). */
  prefix: string;
  /** How long a batch may wait to fill (EXTENSION_LINGER_MS). */
  lingerMs: number;
  /** A list this long is flushed at once (EXTENSION_BATCH_MAX_OPS). Default 100. */
  maxOps?: number;
  log: Logger;
  /** Tests: the clock the push times are taken from. */
  now?: () => number;
}

/** How the identity stage hands rows to the extension stage. */
export interface ExtensionHandoff {
  /**
   * Hands rows to the extension stage. Call after the rows are `identity_done` with `uuid` set
   * and every employee number they reference exists in Concur. At-least-once: calling twice for
   * a row is harmless (a row joins only one batch).
   */
  ready(dropId: string, rows: number[]): Promise<void>;
}

/** Entries pushed per script call: bounds one call's time for a long list of rows. */
const PUSH_GROUP = 1_000;

export function createExtensionHandoff(options: ExtensionHandoffOptions): ExtensionHandoff {
  const { redis, queues, lingerMs, log } = options;
  const clock = options.now ?? Date.now;
  const maxOps = options.maxOps ?? BULK_MAX_OPERATIONS;
  const keys = provisionKeys(options.prefix);
  const push = defineScript(redis, PUSH_READY);

  return {
    async ready(dropId, rows) {
      if (rows.length === 0) return;
      const now = clock();
      let generation = 0;
      let length = 0;
      let headSince: number | undefined;
      for (let i = 0; i < rows.length; i += PUSH_GROUP) {
        const entries = rows.slice(i, i + PUSH_GROUP).map((row) => entryOf(dropId, row));
        const reply = (await push([keys.ready, keys.flushGen, keys.readyMarks, keys.readySeq], [now, ...entries])) as [
          number,
          number,
          number,
        ];
        [generation, length] = reply;
        headSince = sinceOf(reply[2]);
      }
      await enqueueLingerFlush(queues.extension, headSince, lingerMs, now);
      if (length >= maxOps)
        await queues.extension.add('flush', { kind: 'flush', fullOnly: true } satisfies ExtensionJob, {
          jobId: flushJobId(generation, true),
        });
      log.debug({ dropId, rows: rows.length, generation, length, headSince }, 'rows ready for extensions');
    },
  };
}
