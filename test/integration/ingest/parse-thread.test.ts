import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { generateEmployeeImport } from '../../../src/demo/employee-import.ts';
import { generateDrop, toCsv } from '../../../src/demo/generate.ts';
import { ingestDrop, type IngestOptions } from '../../../src/producers/ingest.ts';
import { DEFAULT_GUARDS } from '../../../src/shared/guards/limits.ts';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createQueues } from '../../../src/shared/queues/index.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

/*
 * A drop read in the parse worker thread (parse-thread.ts) leaves exactly what the same drop read
 * in the ingest's own thread leaves: the same result or the same error (code, message, details),
 * and the same ledger, key for key. Every fixture drop and hostile file, a generated drop of
 * thousands of rows in many small batches (bad rows, duplicates, deactivations, backpressure), a
 * legacy employee import, a mapping file, and a drop stopped by MAX_INVALID_PERCENT.
 */
const redis = testRedis();
const log = createLogger({ level: 'silent' });
const fixtures = (sub: string): string => fileURLToPath(new URL(`../../fixtures/${sub}/`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parse-thread-'));
const prefixes: string[] = [];
const NOW = Date.parse('2026-01-05T10:00:00Z');

afterAll(async () => {
  for (const p of prefixes) await deletePrefix(redis, p);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

type Side = { outcome: unknown; ledger: Record<string, unknown> };

/** Ingests under a prefix of its own, in the worker thread or not; what it returned or threw, and the ledger it left. */
async function ingestIn(threaded: boolean, options: IngestOptions, guards = DEFAULT_GUARDS): Promise<Side> {
  const prefix = uniquePrefix(threaded ? 'thread' : 'inline');
  prefixes.push(prefix);
  const queues = createQueues(redis, prefix);
  try {
    const outcome = await ingestDrop(
      { ledger: new Ledger(redis, prefix), identityQueue: queues.identity, log, now: () => NOW, guards },
      { ...options, parseThreadMinBytes: threaded ? 0 : Number.POSITIVE_INFINITY },
    ).then(
      (result) => ({ result }),
      (err: { code?: string; message: string; details?: unknown }) => ({
        error: { code: err.code, message: err.message, details: err.details },
      }),
    );
    return { outcome, ledger: await dumpLedger(redis, prefix) };
  } finally {
    await queues.close();
  }
}

/** Every ledger key under the prefix (the prefix taken out of names) with its whole content. */
async function dumpLedger(r: Redis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:ledger:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await r.type(key);
      const name = key.slice(prefix.length);
      if (type === 'hash') out[name] = await r.hgetall(key);
      else if (type === 'string') out[name] = await r.get(key);
      else if (type === 'set') out[name] = (await r.smembers(key)).sort();
      else if (type === 'zset') out[name] = await r.zrange(key, 0, -1, 'WITHSCORES');
      else if (type === 'list') out[name] = await r.lrange(key, 0, -1);
      else out[name] = type;
    }
  } while (cursor !== '0');
  return out;
}

async function expectSame(options: IngestOptions, guards = DEFAULT_GUARDS): Promise<Side> {
  const inline = await ingestIn(false, options, guards);
  const threaded = await ingestIn(true, options, guards);
  expect(threaded.outcome).toEqual(inline.outcome);
  expect(threaded.ledger).toEqual(inline.ledger);
  return threaded;
}

describe('a drop read in the parse worker thread', () => {
  const files = [
    ...readdirSync(fixtures('hostile')).map((f) => join(fixtures('hostile'), f)),
    ...readdirSync(fixtures('drops'))
      .filter((f) => f !== 'workday-mapping.json')
      .map((f) => join(fixtures('drops'), f)),
  ];
  it.each(files)('leaves what the same thread leaves: %s', async (path) => {
    await expectSame({ path });
  });

  it('with a mapping file', async () => {
    const side = await expectSame({
      path: join(fixtures('drops'), 'workday.csv'),
      mappingPath: join(fixtures('drops'), 'workday-mapping.json'),
    });
    expect(side.outcome).toMatchObject({ result: { status: 'running' } });
  });

  it('thousands of rows in small batches: bad rows, duplicates and deactivations in file order', async () => {
    const drop = generateDrop({ people: 3000, seed: 7 });
    const records = [...drop.records, ...drop.records.slice(0, 40)];
    for (const r of records.slice(100, 160)) r.active = 'false';
    const path = join(dir, 'many.csv');
    writeFileSync(path, toCsv(records));
    const side = await expectSame({ path, ledgerBatchRows: 7 });
    expect(side.outcome).toMatchObject({ result: { rows: 3040, status: 'running' } });
    const { invalid } = (side.outcome as { result: { invalid: number } }).result;
    expect(invalid).toBeGreaterThan(40);
  });

  it('a legacy employee import (two passes, warnings, error threshold)', async () => {
    const path = join(dir, 'employee_p0000thread_20240101000000.txt');
    writeFileSync(path, generateEmployeeImport({ people: 400, seed: 3 }).text);
    const side = await expectSame({ path, ledgerBatchRows: 50 });
    expect(side.outcome).toMatchObject({ result: { existed: false } });
  });

  it('a drop stopped by MAX_INVALID_PERCENT: the same row named, the same rows recorded before', async () => {
    const drop = generateDrop({ people: 600, seed: 9, badEvery: 3 });
    const path = join(dir, 'garbage.csv');
    writeFileSync(path, toCsv(drop.records));
    const side = await expectSame(
      { path, ledgerBatchRows: 20 },
      { ...DEFAULT_GUARDS, minRows: 50, maxInvalidPercent: 10 },
    );
    expect(side.outcome).toMatchObject({
      error: {
        code: 'PROV_ERR_INPUT',
        message: expect.stringMatching(/more than MAX_INVALID_PERCENT=10%.*\(row \d+\)/),
      },
    });
  });

  it('a file that breaks half-way: rejected with the same message, nothing enqueued', async () => {
    const drop = generateDrop({ people: 2000, seed: 5 });
    const path = join(dir, 'broken.csv');
    writeFileSync(path, `${toCsv(drop.records)}"unclosed,quote\n`);
    const side = await expectSame({ path, ledgerBatchRows: 100 });
    expect(side.outcome).toMatchObject({
      error: { code: 'PROV_ERR_INPUT', message: expect.stringMatching(/never closed/) },
    });
  });
});

describe('an ingest that stops while the worker reads', () => {
  it('fails with the ledger error, after the worker stopped', async () => {
    const drop = generateDrop({ people: 3000, seed: 11 });
    const path = join(dir, 'stopped.csv');
    writeFileSync(path, toCsv(drop.records));
    const prefix = uniquePrefix('stopped');
    prefixes.push(prefix);
    const queues = createQueues(redis, prefix);
    // A ledger whose third write fails, as a Redis that goes away would make it.
    class FailingLedger extends Ledger {
      writes = 0;
      override async addEncodedRows(...args: Parameters<Ledger['addEncodedRows']>) {
        this.writes += 1;
        if (this.writes === 3) throw new Error('Redis went away');
        return super.addEncodedRows(...args);
      }
    }
    const ledger = new FailingLedger(redis, prefix);
    try {
      await expect(
        ingestDrop(
          { ledger, identityQueue: queues.identity, log },
          { path, ledgerBatchRows: 50, parseThreadMinBytes: 0 },
        ),
      ).rejects.toThrow('Redis went away');
      // The failure shows when the ingest next waits for a write (two are in flight at most); then
      // the reading stops: the rest of the 60 batches is never written.
      expect(ledger.writes).toBeLessThanOrEqual(5);
      expect(await queues.identity.count()).toBe(0);
    } finally {
      await queues.close();
    }
  });
});
