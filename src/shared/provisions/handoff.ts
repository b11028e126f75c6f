import type { Logger } from '../logger.ts';
import { defineScript, type LuaScript } from '../lua.ts';
import type { RedisConnection } from '../redis.ts';
import type { PipelineQueues } from '../queues/index.ts';
import { BULK_MAX_OPERATIONS } from '../concur/ups.ts';
import { provisionKeys } from '../keys.ts';
import { flushJobId, type ExtensionJob } from '../queues/extension.ts';
import { entryOf } from './entries.ts';

const PUSH_READY: LuaScript = {
  name: 'provProvisionsPushReady',
  file: new URL('./lua/push-ready.lua', import.meta.url),
};

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
  const maxOps = options.maxOps ?? BULK_MAX_OPERATIONS;
  const keys = provisionKeys(options.prefix);
  const push = defineScript(redis, PUSH_READY);

  return {
    async ready(dropId, rows) {
      if (rows.length === 0) return;
      let generation = 0;
      let length = 0;
      for (let i = 0; i < rows.length; i += PUSH_GROUP) {
        const entries = rows.slice(i, i + PUSH_GROUP).map((row) => entryOf(dropId, row));
        [generation, length] = (await push([keys.ready, keys.flushGen], entries)) as [number, number];
      }
      const data: ExtensionJob = { kind: 'flush' };
      await queues.extension.add('flush', data, { jobId: flushJobId(generation), delay: lingerMs });
      if (length >= maxOps)
        await queues.extension.add('flush', { kind: 'flush', fullOnly: true } satisfies ExtensionJob, {
          jobId: flushJobId(generation, true),
        });
      log.debug({ dropId, rows: rows.length, generation, length }, 'rows ready for extensions');
    },
  };
}
