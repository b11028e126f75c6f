import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { ProvError } from '../shared/errors.ts';
import type { DropBatch, DropBatchParams } from './drop-batches.ts';
import type { DropFormat } from './sources/index.ts';
import { receivedError, type FromParseWorker, type ToParseWorker } from './parse-protocol.ts';

/*
 * readDropBatches (drop-batches.ts) in a worker thread (parse-worker.ts): the same batches, read
 * on the other core while this thread writes the previous ones to Redis. Backpressure both ways:
 * the worker reads at most BATCHES_AHEAD batches past the last one taken here, and this side takes
 * the next only when the ingest asks for it.
 */

// Compiled (dist/, .js) or run from src/ (tsx, vitest: .ts). A worker thread does not inherit the
// parent's TypeScript loader (not even `--import tsx`), so from src/ it starts by registering tsx's.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_FILE = new URL(FROM_SOURCE ? './parse-worker.ts' : './parse-worker.js', import.meta.url);

/** What the Worker runs: the compiled file, or a bootstrap that registers tsx and imports the source. */
function workerEntry(): { entry: URL | string; eval: boolean } {
  if (!FROM_SOURCE) return { entry: WORKER_FILE, eval: false };
  // tsx's ESM API (its package's `import` condition; require() resolves to the .cjs beside it).
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const code = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(WORKER_FILE.href)}); })`;
  return { entry: code, eval: true };
}

/**
 * The worker's heap. Its rows die young, but left to V8's defaults it carries ~45 MB of dead
 * objects between full collections, on top of this thread's heap (peak RSS is the target: a small
 * young generation and an old one far above what a row can need make it collect sooner). An
 * employee import's second pass holds a partition of merged people: no old-generation cap there.
 */
function workerHeap(format: DropFormat): ResourceLimits {
  return format === 'employee-import'
    ? { maxYoungGenerationSizeMb: 8 }
    : { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 };
}

/** How long a stopped worker may take to close its file before it is terminated. */
const STOP_GRACE_MS = 5_000;

export async function* readDropBatchesInThread(
  params: DropBatchParams,
  duplicates: () => number,
): AsyncGenerator<DropBatch> {
  const { entry, eval: isCode } = workerEntry();
  const worker = new Worker(entry, {
    eval: isCode,
    workerData: params,
    resourceLimits: workerHeap(params.format),
  });
  const inbox: FromParseWorker[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      wake?.();
      resolve();
    }),
  );
  worker.on('message', (m: FromParseWorker) => {
    inbox.push(m);
    wake?.();
  });
  // An exception the worker did not catch (a bug, or out of memory): the ingest fails with it.
  worker.on('error', (err) => {
    failure ??= err;
    wake?.();
  });
  const send = (m: ToParseWorker): void => worker.postMessage(m);
  let ended = false;
  try {
    for (;;) {
      while (inbox.length === 0 && failure === undefined && !exited)
        await new Promise<void>((resolve) => (wake = resolve));
      const m = inbox.shift();
      if (m === undefined)
        throw failure ?? new ProvError('PROV_ERR_INTERNAL', `${params.file}: the parse worker stopped before the end`);
      if (m.type === 'error') throw receivedError(m.error);
      ended = m.batch.end !== undefined;
      yield m.batch;
      if (ended) return;
      send({ type: 'ack', duplicates: duplicates() });
    }
  } finally {
    if (!exited) {
      if (!ended) send({ type: 'stop' });
      const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
      await exit;
      clearTimeout(grace);
    }
  }
}
