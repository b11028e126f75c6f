// A BullMQ worker whose jobs do nothing: the baseline consumer (plain JavaScript, like the
// compiled workers). Stops on SIGTERM.
// Usage: node bench/children/noop-worker.js REDIS_URL PREFIX QUEUE CONCURRENCY
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url, prefix, queue, concurrency] = process.argv.slice(2);
if (!url || !prefix || !queue) throw new Error('usage: noop-worker REDIS_URL PREFIX QUEUE CONCURRENCY');
const connection = new Redis(url, { maxRetriesPerRequest: null });
connection.on('error', () => undefined);
const worker = new Worker(queue, async () => undefined, { connection, prefix, concurrency: Number(concurrency ?? 8) });
worker.on('error', (err) => process.stderr.write(`noop worker: ${err.message}\n`));
process.once('SIGTERM', () => {
  void worker
    .close()
    .then(() => connection.quit())
    .finally(() => process.exit(0));
});
