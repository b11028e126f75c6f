import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createQueues } from '../../../src/shared/queues/index.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const redis = testRedis();
const prefix = uniquePrefix('malformed');
const ledger = new Ledger(redis, prefix);
const queues = createQueues(redis, prefix);
const deps = { ledger, identityQueue: queues.identity, log: createLogger({ level: 'silent' }) };
const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/drops/${name}`, import.meta.url));

afterAll(async () => {
  await queues.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('ingesting malformed drops', () => {
  it.each([
    ['unclosed-quote.csv', /unclosed-quote\.csv: has a quoted field that is never closed .*\(line 3\)/],
    ['empty.csv', /empty\.csv: is empty/],
    ['not-array.json', /not-array\.json: must hold a JSON array of objects/],
    ['duplicate-header.csv', /duplicate-header\.csv: has the column name 'email' twice/],
  ])('%s is rejected before anything is queued, with a clear error', async (name, message) => {
    await expect(ingestDrop(deps, { path: fixture(name) })).rejects.toThrow(message);
    const [dropId] = await ledger.listDrops(1);
    const view = await ledger.getDrop(dropId!);
    expect(view?.meta.status).toBe('rejected');
    expect(view?.meta.reason).toMatch(message);
    expect(await queues.identity.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 0, delayed: 0 });
  });

  it('a ragged row is invalid with its row number; the other rows go on', async () => {
    const result = await ingestDrop(deps, { path: fixture('ragged.csv') });
    expect(result).toMatchObject({ existed: false, invalid: 2 });
    const rows = [];
    for await (const r of ledger.iterateRows(result.dropId)) rows.push(r);
    const invalid = rows.filter((r) => r.state === 'invalid');
    expect(invalid.map((r) => r.outcome.error)).toEqual(
      invalid.map((r) => expect.stringMatching(new RegExp(`ragged\\.csv row ${r.row} \\(line \\d+\\): `))),
    );
    expect(rows.filter((r) => r.state === 'pending').length).toBe(result.rows - 2);
  });

  it('a header-only file is a complete drop of zero rows', async () => {
    const result = await ingestDrop(deps, { path: fixture('header-only.csv') });
    expect(result).toMatchObject({ rows: 0, status: 'complete' });
  });

  it('UTF-16 without a BOM is rejected as a wrong encoding', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'enc-')), 'utf16.csv');
    writeFileSync(path, Buffer.from('userName,givenName\r\na@b.com,A\r\n', 'utf16le'));
    await expect(ingestDrop(deps, { path })).rejects.toThrow(/utf16\.csv: .*(UTF-16|NUL)/i);
  });
});
