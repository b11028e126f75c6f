import type { Logger } from '../../shared/logger.ts';
import type { RedisConnection } from '../../shared/redis.ts';
import type { PipelineQueues } from '../../shared/queues/index.ts';
import { BULK_MAX_OPERATIONS } from '../../shared/concur/ups.ts';
import { flushJobId, type ExtensionJob } from '../../shared/queues/extension.ts';
import { entryOf, extensionKeys } from './keys.ts';

/**
 * KEYS: ready list, flush generation. ARGV: entries...
 * Appends the entries and returns { generation, list length } in one step, so the flush job this
 * call asks for is the one that will cut these entries (a flush bumps the generation first).
 */
const PUSH_READY = `
redis.call('RPUSH', KEYS[1], unpack(ARGV))
return { tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('LLEN', KEYS[1]) }
`;

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

export interface ExtensionHandoff {
  /**
   * Hands rows to the extension stage. Call after the rows are `identity_done` with `uuid` set
   * and every employee number they reference exists in Concur. At-least-once: calling twice for
   * a row is harmless (a row joins only one batch).
   */
  ready(dropId: string, rows: number[]): Promise<void>;
}

const CHUNK = 1_000;

export function createExtensionHandoff(options: ExtensionHandoffOptions): ExtensionHandoff {
  const { redis, queues, lingerMs, log } = options;
  const maxOps = options.maxOps ?? BULK_MAX_OPERATIONS;
  const keys = extensionKeys(options.prefix);
  const r = redis as unknown as Record<string, unknown>;
  if (typeof r.provExtPushReady !== 'function')
    redis.defineCommand('provExtPushReady', { numberOfKeys: 2, lua: PUSH_READY });
  const push = (entries: string[]) =>
    (
      redis as unknown as { provExtPushReady(a: string, b: string, ...e: string[]): Promise<[number, number]> }
    ).provExtPushReady(keys.ready, keys.flushGen, ...entries);

  return {
    async ready(dropId, rows) {
      if (rows.length === 0) return;
      let generation = 0;
      let length = 0;
      for (let i = 0; i < rows.length; i += CHUNK) {
        [generation, length] = await push(rows.slice(i, i + CHUNK).map((row) => entryOf(dropId, row)));
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
