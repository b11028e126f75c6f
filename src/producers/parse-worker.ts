import { parentPort, workerData } from 'node:worker_threads';
import { ProvError } from '../shared/errors.ts';
import { readDropBatches, type DropBatchParams } from './drop-batches.ts';
import { BATCHES_AHEAD, sendError, type FromParseWorker, type ToParseWorker } from './parse-protocol.ts';

/*
 * The parse worker: a thread that reads a drop into ledger batches (drop-batches.ts) while the
 * ingest's own thread writes them to Redis. It reads at most BATCHES_AHEAD batches ahead of what
 * the ingest took, and stops at the first batch after a `stop`. Started by parse-thread.ts.
 */

if (!parentPort) throw new ProvError('PROV_ERR_INTERNAL', 'parse-worker runs only as a worker thread');
const port = parentPort;
let duplicates = 0;
let credit = BATCHES_AHEAD;
let stopped = false;
let wake: (() => void) | undefined;
const onMessage = (m: ToParseWorker): void => {
  if (m.type === 'ack') {
    duplicates = m.duplicates;
    credit += 1;
  } else {
    stopped = true;
  }
  wake?.();
};
port.on('message', onMessage);
const send = (m: FromParseWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

try {
  for await (const batch of readDropBatches(workerData as DropBatchParams, () => duplicates)) {
    while (credit === 0 && !stopped) await new Promise<void>((resolve) => (wake = resolve));
    // Leaving the loop closes the reader (an employee import's temporary files go with it).
    if (stopped) break;
    credit -= 1;
    // The packed fields move to the ingest's thread (transferred, not copied).
    send({ type: 'batch', batch }, [batch.encoded.bytes.buffer, batch.encoded.ends.buffer]);
  }
} catch (err) {
  send({ type: 'error', error: sendError(err) });
} finally {
  // Nothing else keeps the thread alive: it ends once the messages above are on their way.
  port.off('message', onMessage);
}
