import { resolve } from 'node:path';
import { createRuntime, ensureDurableRedis } from '../shared/runtime.ts';
import { guardsFromConfig } from '../shared/guards/limits.ts';
import { ingestDrop, type IngestOptions } from './ingest.ts';
import { DropWatcher } from './watch.ts';

export interface WatchCommandOptions {
  dir: string;
  mappingPath?: string;
  format?: IngestOptions['format'];
  encoding?: IngestOptions['encoding'];
  delimiter?: IngestOptions['delimiter'];
  pollMs?: number;
  env?: Record<string, string | undefined>;
}

/** `provision watch DIR`: runs the watcher until a signal (the file in hand is finished first). */
export async function runWatch(options: WatchCommandOptions): Promise<DropWatcher> {
  const rt = createRuntime('watcher', 'producer', options.env);
  await ensureDurableRedis(rt);
  const { config, log, ledger, queues } = rt;
  const watcher = new DropWatcher(
    {
      dir: resolve(options.dir),
      pollMs: options.pollMs ?? config.WATCH_POLL_MS,
      ingest: {
        ...(options.mappingPath ? { mappingPath: options.mappingPath } : {}),
        ...(options.format ? { format: options.format } : {}),
        ...(options.encoding ? { encoding: options.encoding } : {}),
        ...(options.delimiter ? { delimiter: options.delimiter } : {}),
      },
    },
    {
      ingest: (o) => ingestDrop({ ledger, identityQueue: queues.identity, log, guards: guardsFromConfig(config) }, o),
      ledger,
      log,
    },
  );
  rt.shutdown.register('log flush', () => log.flush());
  rt.shutdown.register('watcher', () => watcher.stop());
  rt.shutdown.installSignalHandlers();
  try {
    await watcher.start();
  } catch (err) {
    // A folder the watcher refuses (a link, not a directory): nothing may keep the process up.
    await rt.shutdown.close();
    throw err;
  }
  return watcher;
}
