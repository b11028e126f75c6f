// One side of the ingest benchmark, in its own process so its peak RSS and CPU are its own. Plain
// JavaScript on the compiled build (dist/), as `provision ingest` runs: no TypeScript loader in
// the figures.
// Usage: node bench/children/ingest-child.js csv-parse FILE   (csv-parse-lines FILE: no header)
//        node bench/children/ingest-child.js addbulk ROWS REDIS_URL PREFIX
//        node bench/children/ingest-child.js ingest FILE REDIS_URL PREFIX
// Prints one JSON line: { mode, rows, seconds, rowsPerSecond, cpuMs, maxRssBytes } (ingest: and dropId).
import { createReadStream } from 'node:fs';
import { Queue } from 'bullmq';
import { parse } from 'csv-parse';
import { Redis } from 'ioredis';
import { ingestDrop } from '../../dist/producers/ingest.js';
import { Ledger } from '../../dist/shared/ledger/ledger.js';
import { createLogger } from '../../dist/shared/logger.js';
import { createQueues } from '../../dist/shared/queues/index.js';
import { createRedis } from '../../dist/shared/redis.js';

const [mode, target, url, prefix] = process.argv.slice(2);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let rows = 0;
let dropId;

if (mode === 'csv-parse-lines' && target) {
  // The floor for a headerless file: split the lines into fields, nothing else.
  const parser = createReadStream(target).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true }));
  for await (const _record of parser) rows += 1;
} else if (mode === 'csv-parse' && target) {
  // The floor: read and split the same file, nothing else.
  const parser = createReadStream(target).pipe(parse({ columns: true, bom: true, skip_empty_lines: true }));
  for await (const _record of parser) rows += 1;
} else if (mode === 'addbulk' && target && url && prefix) {
  // The naive design: one job per row (data: drop id and row number), added 1,000 at a time.
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  queue.on('error', () => undefined);
  const n = Number(target);
  for (let i = 0; i < n; i += 1000) {
    const k = Math.min(1000, n - i);
    await queue.addBulk(
      Array.from({ length: k }, (_, j) => ({ name: 'row', data: { dropId: 'baseline', row: i + j + 1 } })),
    );
  }
  rows = n;
  await queue.close();
  await connection.quit();
} else if (mode === 'ingest' && target && url && prefix) {
  const log = createLogger({ level: 'silent' });
  const redis = createRedis(url, 'producer', log);
  const queues = createQueues(redis, prefix, log);
  const result = await ingestDrop(
    { ledger: new Ledger(redis, prefix), identityQueue: queues.identity, log },
    { path: target },
  );
  rows = result.rows;
  dropId = result.dropId;
  await queues.close();
  await redis.quit();
} else {
  throw new Error('usage: ingest-child csv-parse FILE | addbulk ROWS REDIS_URL PREFIX | ingest FILE REDIS_URL PREFIX');
}

const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
// maxRSS is in kilobytes.
process.stdout.write(
  `${JSON.stringify({ mode, dropId, rows, seconds: Math.round(seconds * 100) / 100, rowsPerSecond: Math.round(rows / seconds), cpuMs: Math.round((cpu.user + cpu.system) / 1000), maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
