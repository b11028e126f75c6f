import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateEmployeeImport } from '../../../src/demo/employee-import.ts';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { DropWatcher, SIDECAR_SUFFIX, type ArchiveSidecar } from '../../../src/producers/watch.ts';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createQueues, type PipelineQueues } from '../../../src/shared/queues/index.ts';
import { createRedis, type RedisConnection } from '../../../src/shared/redis.ts';
import { deletePrefix, TEST_REDIS_URL, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const fixture = (name: string): string => new URL(`../../fixtures/drops/${name}`, import.meta.url).pathname;
const log = createLogger({ level: 'silent' });

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ls = async (dir: string): Promise<string[]> => (await readdir(dir)).sort();

let dir: string;
let prefix: string;
let redis: RedisConnection;
let ledger: Ledger;
let queues: PipelineQueues;
let watcher: DropWatcher | undefined;
let ingests: string[];

function newWatcher(): DropWatcher {
  return new DropWatcher(
    { dir, pollMs: 50 },
    {
      ingest: (o) => {
        ingests.push(o.path);
        return ingestDrop({ ledger, identityQueue: queues.identity, log }, o);
      },
      ledger,
      log,
    },
  );
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provision-watch-'));
  prefix = uniquePrefix('watch');
  redis = createRedis(TEST_REDIS_URL, 'producer', log);
  ledger = new Ledger(redis, prefix);
  queues = createQueues(redis, prefix, log);
  ingests = [];
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  await queues.close();
  const cleaner = testRedis();
  await deletePrefix(cleaner, prefix);
  await cleaner.quit();
  await redis.quit();
  await rm(dir, { recursive: true, force: true });
});

async function archivedSidecar(source: string): Promise<ArchiveSidecar> {
  const name = await until(`${source} archived`, async () =>
    (await ls(join(dir, 'reports'))).find((n) => n.endsWith(`__${source}${SIDECAR_SUFFIX}`)),
  );
  return JSON.parse(await readFile(join(dir, 'reports', name), 'utf8')) as ArchiveSidecar;
}

describe('watch folder', () => {
  it('ingests a complete file, archives it under its drop id, and writes the report once the drop completes', async () => {
    watcher = newWatcher();
    await watcher.start();
    await copyFile(fixture('template-valid.csv'), join(dir, 'inbox', 'people.csv'));
    const sidecar = await archivedSidecar('people.csv');
    expect(sidecar.archivedAs).toBe(`${sidecar.dropId}__people.csv`);
    const view = await ledger.getDrop(sidecar.dropId);
    expect(view?.meta.file).toBe('people.csv');
    expect(sidecar.rows).toBe(view?.meta.rows);
    expect(await ls(join(dir, 'inbox'))).toEqual([]);
    expect(await ls(join(dir, 'processing'))).toEqual([]);
    expect(await readFile(join(dir, 'archive', sidecar.archivedAs), 'utf8')).toBe(
      await readFile(fixture('template-valid.csv'), 'utf8'),
    );

    // Settle every row as the workers would; the watcher then writes the final report.
    for await (const r of ledger.iterateRows(sidecar.dropId))
      if (r.state === 'pending') await ledger.transition(sidecar.dropId, r.row, 'done');
    const reportName = `${sidecar.archivedAs}.report.csv`;
    await until('report', async () => ((await ls(join(dir, 'reports'))).includes(reportName) ? true : undefined));
    const report = (await readFile(join(dir, 'reports', reportName), 'utf8')).trim().split('\r\n');
    expect(report).toHaveLength((view?.meta.rows ?? 0) + 1);
    const final = JSON.parse(
      await readFile(join(dir, 'reports', `${sidecar.archivedAs}${SIDECAR_SUFFIX}`), 'utf8'),
    ) as ArchiveSidecar;
    // The archive holds the data file only; the watcher's own files are in reports/.
    expect(await ls(join(dir, 'archive'))).toEqual([sidecar.archivedAs]);
    expect(final).toMatchObject({ status: 'complete', reportFile: reportName });
  });

  it('takes a legacy employee import as it is named and written (no header, CRLF, .txt): one row per person', async () => {
    watcher = newWatcher();
    await watcher.start();
    const { text, people, expected } = generateEmployeeImport({ people: 20 });
    await writeFile(join(dir, 'inbox', 'employee_p0001abcd_20240101020304.txt'), text);
    const sidecar = await archivedSidecar('employee_p0001abcd_20240101020304.txt');
    const view = await ledger.getDrop(sidecar.dropId);
    expect(view?.meta.format).toBe('employee-import');
    expect(view?.meta.rows).toBe(people.length + expected.invalidLines + expected.unsupportedLines);
    expect(view?.counts).toMatchObject({
      pending: people.length,
      invalid: expected.invalidLines,
      unsupported: expected.unsupportedLines,
    });
  });

  it('takes a file at once when its .done marker appears, and removes the marker', async () => {
    watcher = newWatcher();
    await watcher.start();
    await copyFile(fixture('template-valid.ndjson'), join(dir, 'inbox', 'people.ndjson'));
    await writeFile(join(dir, 'inbox', 'people.ndjson.done'), '');
    const sidecar = await archivedSidecar('people.ndjson');
    expect(sidecar.status).toBe('running');
    expect(await ls(join(dir, 'inbox'))).toEqual([]);
  });

  it('checks a file against its manifest: a match is archived with it, a truncated file is rejected with the counts', async () => {
    const { createHash } = await import('node:crypto');
    watcher = newWatcher();
    await watcher.start();
    const good = await readFile(fixture('template-valid.csv'));
    const sha256 = createHash('sha256').update(good).digest('hex');
    const rows = good.toString('utf8').trim().split('\n').length - 1;
    // The manifest first, then the file (or a .done marker), so the watcher never sees the file alone.
    await writeFile(join(dir, 'inbox', 'ok.csv.manifest.json'), JSON.stringify({ rows, sha256 }));
    await writeFile(join(dir, 'inbox', 'ok.csv'), good);
    const sidecar = await archivedSidecar('ok.csv');
    expect(await ls(join(dir, 'archive'))).toContain(`${sidecar.archivedAs}.manifest.json`);

    const truncated = good.subarray(0, good.lastIndexOf('\n', good.length - 2) + 1);
    await writeFile(join(dir, 'inbox', 'cut.csv.manifest.json'), JSON.stringify({ rows, sha256 }));
    await writeFile(join(dir, 'inbox', 'cut.csv'), truncated);
    const reason = await until('reason', async () =>
      readFile(join(dir, 'reports', 'cut.csv.reason.txt'), 'utf8').catch(() => undefined),
    );
    expect(reason).toMatch(/cut\.csv/);
    expect(reason).toMatch(new RegExp(`${rows}`));
    expect(await ls(join(dir, 'rejected'))).toEqual(['cut.csv', 'cut.csv.manifest.json']);
    expect(await ls(join(dir, 'inbox'))).toEqual([]);
  });

  it('rejects an unreadable file with a reason, and keeps going', async () => {
    watcher = newWatcher();
    await watcher.start();
    await copyFile(fixture('unclosed-quote.csv'), join(dir, 'inbox', 'broken.csv'));
    await writeFile(join(dir, 'inbox', 'notes.txt'), 'hello');
    const reason = await until('reason', async () =>
      readFile(join(dir, 'reports', 'broken.csv.reason.txt'), 'utf8').catch(() => undefined),
    );
    expect(reason).toContain('broken.csv');
    const notes = await until('reason', async () =>
      readFile(join(dir, 'reports', 'notes.txt.reason.txt'), 'utf8').catch(() => undefined),
    );
    expect(notes).toContain('notes.txt');
    await copyFile(fixture('template-valid.csv'), join(dir, 'inbox', 'after.csv'));
    await archivedSidecar('after.csv');
    expect(await ls(join(dir, 'rejected'))).toEqual(['broken.csv', 'notes.txt']);
  });

  it('rejects symlinks, directories and names with path tricks without reading them', async () => {
    const secret = join(dir, 'secret.csv');
    await copyFile(fixture('template-valid.csv'), secret);
    await mkdir(join(dir, 'inbox'), { recursive: true });
    await symlink(secret, join(dir, 'inbox', 'link.csv'));
    await mkdir(join(dir, 'inbox', 'folder.csv'));
    await copyFile(fixture('template-valid.csv'), join(dir, 'inbox', 'a..b.csv'));
    await copyFile(fixture('template-valid.csv'), join(dir, 'inbox', 'bell\u0007.csv'));
    watcher = newWatcher();
    await watcher.start();
    await until('four rejections', async () =>
      (await ls(join(dir, 'reports'))).filter((n) => n.endsWith('.reason.txt')).length === 4 ? true : undefined,
    );
    const rejected = join(dir, 'rejected');
    const reports = join(dir, 'reports');
    expect(await readFile(join(reports, 'link.csv.reason.txt'), 'utf8')).toContain('symbolic link');
    expect((await lstat(join(rejected, 'link.csv'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(reports, 'folder.csv.reason.txt'), 'utf8')).toContain('not a regular file');
    expect(await readFile(join(reports, 'a_b.csv.reason.txt'), 'utf8')).toContain('".."');
    expect(await readFile(join(reports, 'bell_.csv.reason.txt'), 'utf8')).toContain('control characters');
    expect(ingests).toEqual([]);
    expect(await ledger.listDrops(10)).toEqual([]);
    expect(await ls(join(dir, 'inbox'))).toEqual([]);
  });

  it('resumes a file left in processing/ by a crash without ingesting it twice', async () => {
    for (const sub of ['inbox', 'processing', 'archive', 'rejected', 'reports'])
      await mkdir(join(dir, sub), { recursive: true });
    const path = join(dir, 'processing', 'people.csv');
    await copyFile(fixture('template-valid.csv'), path);
    // The crash came after the ingest but before the move to archive/.
    const first = await ingestDrop({ ledger, identityQueue: queues.identity, log }, { path });
    const jobsBefore = await queues.identity.getJobCountByTypes('waiting', 'prioritized');
    watcher = newWatcher();
    await watcher.start();
    const sidecar = await archivedSidecar('people.csv');
    expect(sidecar.dropId).toBe(first.dropId);
    expect(ingests).toEqual([path]);
    expect(await ledger.listDrops(10)).toEqual([first.dropId]);
    expect(await queues.identity.getJobCountByTypes('waiting', 'prioritized')).toBe(jobsBefore);
    expect(await ls(join(dir, 'processing'))).toEqual([]);
  });
});
