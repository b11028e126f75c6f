import { createWriteStream, readFileSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../src/demo/processes.ts';
import { hasUnsafeChars } from '../../../src/shared/safe-text.ts';
import { startPrivateRedis, type PrivateRedis } from '../../helpers/redis-server.ts';
import {
  dropIdOf,
  eventually,
  names,
  startWatcher,
  watchNamespace,
  type WatcherProcess,
} from '../../helpers/watcher.ts';

/*
 * The watch folder under attack, against the real `provision watch` process, real files and real
 * Redis: links planted in every sub-folder, name clashes, a data file posing as the watcher's own
 * sidecar, planted sidecars, memory bombs, a file that kills the watcher. docs/security.md.
 */

const fixture = (name: string): string => new URL(`../../fixtures/drops/${name}`, import.meta.url).pathname;
const VALID = readFileSync(fixture('template-valid.csv'));
const HEADER = 'userName,givenName,familyName,email,employeeNumber';
/** Rows that are all invalid (a bad email): the drop completes at ingest, so its report is written at once. */
const allInvalid = (tag: string, n = 3): string =>
  `${HEADER}\n${Array.from({ length: n }, (_, i) => `${tag}${i}@example.com,A,B,not-an-email,${tag}${i}`).join('\n')}\n`;

let base: string;
let dir: string;
let ns: ReturnType<typeof watchNamespace>;
let watcher: WatcherProcess | undefined;
const victims: string[] = [];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'provision-hostile-watch-'));
  dir = join(base, 'watch');
  await mkdir(dir);
  ns = watchNamespace();
});

afterEach(async () => {
  await watcher?.stop();
  watcher = undefined;
  await ns.close();
  await rm(base, { recursive: true, force: true });
  victims.length = 0;
});

const sub = (folder: string, name = ''): string => join(dir, folder, name);

async function makeFolders(): Promise<void> {
  for (const f of ['inbox', 'processing', 'archive', 'rejected', 'reports']) await mkdir(sub(f), { recursive: true });
}

/** A file outside the watch folder that a planted link points at; it must never change. */
async function victim(name: string, content = `victim ${name} keep me\n`): Promise<string> {
  const path = join(base, name);
  await writeFile(path, content);
  victims.push(path);
  return path;
}

async function expectVictimsUntouched(): Promise<void> {
  for (const v of victims) expect(await readFile(v, 'utf8'), v).toMatch(/^victim .* keep me\n$/);
}

/** Every regular file under the watch folder (links not followed), with its content (not read past 50 MB). */
async function regularFiles(root = dir): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true })) {
    const path = join(root, entry);
    const st = await lstat(path).catch(() => undefined);
    if (st?.isFile()) out.set(entry, st.size > 50 * 1024 ** 2 ? '(big)' : await readFile(path, 'utf8'));
  }
  return out;
}

/** The reason the watcher wrote for a rejected file (wherever it keeps reasons). */
async function reasonFor(name: string, timeoutMs = 30_000): Promise<string> {
  return eventually(
    `reason for ${name}`,
    async () => {
      for (const [path, text] of await regularFiles())
        if (path.endsWith('.reason.txt') && path.includes(name) && !path.startsWith('inbox')) return text;
      return undefined;
    },
    timeoutMs,
  );
}

async function drop(name: string, content: string | Buffer): Promise<void> {
  // Written beside the folder and moved in whole, as a careful sender does.
  const tmp = join(base, `.${name}.partial`);
  await writeFile(tmp, content);
  await rename(tmp, sub('inbox', name));
}

async function start(args: string[] = [], env: Record<string, string> = {}): Promise<WatcherProcess> {
  watcher = await startWatcher(dir, { prefix: ns.prefix, args, env });
  return watcher;
}

/** A valid file reaches archive/ afterwards: the watcher kept going. */
async function expectStillWorking(): Promise<void> {
  await drop('after.csv', VALID);
  await eventually('after.csv archived', async () =>
    (await names(sub('archive'))).some((n) => n.endsWith('__after.csv')) ? true : undefined,
  );
}

describe('links planted in every sub-folder are never followed', () => {
  it('rejected/: a link at the reason file name is not written through', async () => {
    await makeFolders();
    for (const folder of ['rejected', 'reports'])
      await symlink(await victim(`reason-${folder}`), sub(folder, 'bad.csv.reason.txt'));
    await start();
    await drop('bad.csv', `${HEADER}\n"unclosed,x\n`);
    expect(await reasonFor('bad.csv')).toContain('bad.csv');
    await expectVictimsUntouched();
    expect((await lstat(sub('rejected', 'bad.csv'))).isFile()).toBe(true);
    await expectStillWorking();
  });

  it('archive/ and reports/: links at the sidecar, the report and their temp names are not written through', async () => {
    await makeFolders();
    const content = allInvalid('arch');
    const archived = `${dropIdOf(content)}__people.csv`;
    const planted = [
      sub('archive', archived),
      sub('archive', `${archived}.drop.json`),
      sub('archive', `${archived}.drop.json.tmp`),
      sub('archive', `${archived}.report.csv`),
      sub('archive', `.${archived}.report.csv.tmp`),
      sub('reports', `${archived}.drop.json`),
      sub('reports', `${archived}.report.csv`),
    ];
    for (const [i, path] of planted.entries()) await symlink(await victim(`archive-${i}`), path);
    await start();
    await drop('people.csv', content);
    const report = await eventually('report', async () => {
      for (const [path, text] of await regularFiles())
        if (path.endsWith('.report.csv') && text.includes('arch0')) return text;
      return undefined;
    });
    expect(report).toMatch(/invalid/);
    await expectVictimsUntouched();
    // The data file itself is kept, under a name of its own.
    const kept = [...(await regularFiles())].filter(([p, t]) => p.startsWith('archive') && t === content);
    expect(kept).toHaveLength(1);
  });

  it('processing/: a link found there on start is refused without being read', async () => {
    await makeFolders();
    const outside = join(base, 'outside.csv');
    await writeFile(outside, VALID);
    await symlink(outside, sub('processing', 'people.csv'));
    await start();
    expect(await reasonFor('people.csv')).toMatch(/link|not a regular file/);
    expect(await ns.ledger.listDrops(10)).toEqual([]);
    expect(await readFile(outside)).toEqual(VALID);
    await expectStillWorking();
  });

  it.each(['inbox', 'processing'])('%s/: a manifest that is a link is neither read nor trusted', async (folder) => {
    await makeFolders();
    const secret = join(base, 'secret.txt');
    await writeFile(secret, 'Zq9Kx root:x:0:0\n');
    await symlink(secret, sub(folder, 'm.csv.manifest.json'));
    if (folder === 'processing') await writeFile(sub('processing', 'm.csv'), VALID);
    await start();
    if (folder === 'inbox') await drop('m.csv', VALID);
    expect(await reasonFor('m.csv')).toMatch(/manifest/);
    for (const [path, text] of await regularFiles()) expect(text, path).not.toContain('Zq9Kx');
    for (const id of await ns.ledger.listDrops(10))
      expect(JSON.stringify(await ns.ledger.getDrop(id))).not.toContain('Zq9Kx');
    expect(await watcher!.output()).not.toContain('Zq9Kx');
    expect(await readFile(secret, 'utf8')).toContain('Zq9Kx');
  });

  it('a sub-folder that is itself a link stops the watcher before it writes anything', async () => {
    const elsewhere = join(base, 'elsewhere');
    await mkdir(elsewhere);
    await mkdir(sub('inbox'), { recursive: true });
    await symlink(elsewhere, sub('rejected'));
    watcher = await startWatcher(dir, { prefix: ns.prefix, waitReady: false });
    const code = await Promise.race([
      watcher.child.exited,
      new Promise((r) => setTimeout(() => r('still running'), 20_000)),
    ]);
    expect(code, await watcher.output()).not.toBe('still running');
    expect(code).not.toBe(0);
    expect(await watcher.output()).toMatch(/rejected.*(link|not a directory)/);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('echoes header cells clipped and without control, bidi or invisible characters', async () => {
    await makeFolders();
    await start();
    const evil = `"ev\u001b[2J\u001b]0;owned\u0007il\nname\u202e${'x'.repeat(5000)}"`;
    await drop('echo.csv', `${HEADER},${evil}\nmary@example.com,M,K,mary@example.com,E1,x\n`);
    const reason = await reasonFor('echo.csv');
    expect(reason).toContain('echo.csv');
    expect(reason.trimEnd()).not.toContain('\n');
    expect(hasUnsafeChars(reason.trimEnd())).toBe(false);
    expect(reason.length).toBeLessThan(2_000);
  });
});

describe('logs name files, rows and columns, never cell values', () => {
  it('a headerless export, invalid cells and a broken NDJSON line leave no cell value in any log line', async () => {
    await makeFolders();
    await start([], { LOG_LEVEL: 'debug' });
    // Values a person could be recognised by; none may appear in the watcher's log.
    const secret = ['Zebulon', 'Quagmirefield', 'zebulon.quagmirefield', 'E-770042', 'Xylophonia', 'Krumpetbottom'];
    // A headerless export: its first line is an employee, taken for a header.
    await drop('headerless.csv', 'Zebulon,Quagmirefield,zebulon.quagmirefield@example.com,E-770042\n');
    // A good header with a row whose email is wrong and whose name carries an escape sequence.
    await drop(
      'cells.csv',
      `${HEADER}\nxk@example.com,Xylophonia\u001b[31m,Krumpetbottom,not-an-email-xylophonia,E-770043\n`,
    );
    // NDJSON: one line is not JSON and quotes a name.
    await drop('lines.ndjson', '{"userName":"a@example.com"\n{"userName": "Krumpetbottom Xylophonia"}\n');
    // The reason file, for the operator, quotes the cells taken for a header; the log must not.
    expect(await reasonFor('headerless.csv')).toMatch(/headerless\.csv: .*unknown columns 'Zebulon'/);
    await eventually('the other two files settled', async () => {
      const settled = [...(await names(sub('archive'))), ...(await names(sub('rejected')))];
      return ['cells.csv', 'lines.ndjson'].every((f) => settled.some((n) => n.endsWith(f))) ? true : undefined;
    });
    const log = await watcher!.output();
    // The log did speak about each file (so the grep below means something)...
    for (const f of ['headerless.csv', 'cells.csv', 'lines.ndjson']) expect(log).toContain(f);
    // ...and never with what a cell held.
    for (const line of log.split('\n'))
      for (const value of secret) expect(line.toLowerCase(), line).not.toContain(value.toLowerCase());
  });
});

describe('nothing in the watch folder is ever overwritten', () => {
  let redis: PrivateRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it('a new file named like one waiting for retry in processing/ gets a unique name and a log line', async () => {
    redis = await startPrivateRedis();
    await makeFolders();
    watcher = await startWatcher(dir, { prefix: ns.prefix, env: { REDIS_URL: redis.url } });
    await redis.kill();
    const first = allInvalid('first');
    const second = allInvalid('second');
    await drop('people.csv', first);
    await waitUntil(
      'first file waiting for a retry',
      async () => (await watcher!.output()).includes('retried'),
      30_000,
      watcher.child,
    );
    await drop('people.csv', second);
    await waitUntil('inbox empty', async () => (await names(sub('inbox'))).length === 0, 30_000, watcher.child);
    const waiting = [...(await regularFiles())].filter(([p]) => p.startsWith('processing')).map(([, t]) => t);
    expect(waiting.sort()).toEqual([first, second].sort());
    expect(await watcher.output()).toMatch(/unique name/);
    // Redis back: both are ingested, as two drops.
    await redis.restart();
    await eventually(
      'both archived',
      async () => ((await names(sub('archive'))).filter((n) => n.includes('people')).length === 2 ? true : undefined),
      40_000,
    );
  });

  it('the same file twice is archived twice, and two rejected files of one name keep both reasons', async () => {
    await makeFolders();
    await start();
    const content = allInvalid('twice');
    await drop('same.csv', content);
    const archivedSame = async (): Promise<string[]> =>
      (await names(sub('archive'))).filter((n) => /__same(~\d+)?\.csv$/.test(n));
    await eventually('first archived', async () => ((await archivedSame()).length === 1 ? true : undefined));
    await drop('same.csv', content);
    await drop('broken.csv', `${HEADER}\n"one,x\n`);
    await eventually('first broken rejected', async () =>
      (await names(sub('rejected'))).length >= 1 ? true : undefined,
    );
    await drop('broken.csv', `${HEADER}\n"two,x\n`);
    await eventually('second archived and second rejected', async () => {
      const archived = await archivedSame();
      const rejected = [...(await regularFiles())].filter(([p]) => p.startsWith('rejected') && !p.endsWith('.txt'));
      return archived.length === 2 && rejected.length === 2 ? true : undefined;
    });
    const rejectedTexts = [...(await regularFiles())]
      .filter(([p]) => p.startsWith('rejected') && !p.endsWith('.reason.txt'))
      .map(([, t]) => t);
    expect(rejectedTexts.sort()).toEqual([`${HEADER}\n"one,x\n`, `${HEADER}\n"two,x\n`]);
    const reasons = [...(await regularFiles())].filter(([p]) => p.endsWith('.reason.txt'));
    expect(reasons).toHaveLength(2);
  });
});

describe("the watcher's own files cannot be forged by data files", () => {
  it('a data file named *.drop.json cannot steer a report write outside the folder', async () => {
    await makeFolders();
    await start(['--format', 'ndjson']);
    // A finished drop for the forged sidecar to point at.
    const honest = `{"userName":"h@example.com","givenName":"H","familyName":"O","email":"bad","employeeNumber":"H1"}\n`;
    await drop('honest.ndjson', honest);
    const honestId = dropIdOf(honest);
    await eventually('honest drop complete', async () =>
      (await ns.ledger.getDrop(honestId))?.meta.status === 'complete' ? true : undefined,
    );
    const forged = JSON.stringify({
      dropId: honestId,
      source: 'x',
      archivedAs: '../../escaped',
      status: 'running',
      rows: 1,
      invalid: 0,
      archivedAt: 1,
    });
    await drop('evil.drop.json', `${forged}\n`);
    await eventually('evil archived', async () =>
      (await names(sub('archive'))).some((n) => n.endsWith('__evil.drop.json')) ? true : undefined,
    );
    // Give the watcher a few passes to act on it.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await readdir(base)).filter((n) => n.startsWith('escaped'))).toEqual([]);
    expect((await readdir(dir)).filter((n) => n.startsWith('escaped'))).toEqual([]);
  });

  it('planted and broken sidecars neither escape the folder nor block the report of a real drop', async () => {
    await makeFolders();
    const outside = join(base, 'outside.drop.json');
    const content = allInvalid('blocked');
    const id = dropIdOf(content);
    const forged = (archivedAs: string): string =>
      JSON.stringify({ dropId: id, source: 'x', archivedAs, status: 'running', rows: 1, invalid: 0, archivedAt: 1 });
    await writeFile(outside, forged('../../linked'));
    // Sorted before the real sidecar: a sidecar that throws must not stop the ones after it.
    for (const folder of ['archive', 'reports']) {
      await writeFile(sub(folder, '0-missing-dir.drop.json'), forged('no/such/dir/x'));
      await writeFile(sub(folder, '1-traversal.drop.json'), forged('../../traversal'));
      await writeFile(sub(folder, '2-not-json.drop.json'), '{"dropId": ');
      await writeFile(sub(folder, '3-weird-id.drop.json'), JSON.stringify({ dropId: '{x}:*', archivedAs: 'y' }));
      await mkdir(sub(folder, '4-folder.drop.json'));
      await symlink(outside, sub(folder, '5-link.drop.json'));
    }
    await start();
    await drop('people.csv', content);
    await eventually('the real report', async () => {
      for (const [path, text] of await regularFiles())
        if (path.endsWith('.report.csv') && text.includes('blocked0')) return true;
      return undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await readdir(base)).sort()).toEqual(['outside.drop.json', 'watch']);
    const written = (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.report.csv'));
    expect(written.filter((n) => !n.includes('__people.csv'))).toEqual([]);
    expect(await readFile(outside, 'utf8')).toBe(forged('../../linked'));
  });
});

const TWO_GB = 2 * 1024 ** 3;

/** Peak resident memory of a process, in MB (VmHWM). */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function writeBig(path: string, head: string, chunk: string, bytes: number, tail = ''): Promise<void> {
  const out = createWriteStream(path);
  out.write(head);
  const block = chunk.repeat(Math.ceil((1 << 20) / chunk.length));
  for (let written = 0; written < bytes; written += block.length) if (!out.write(block)) await once(out, 'drain');
  out.end(tail);
  await once(out, 'finish');
}

describe('memory bombs and crash loops', () => {
  it('40 MB of empty fields on one line is rejected with a clear error; the watcher stays small and goes on', async () => {
    await makeFolders();
    await start();
    const tmp = join(base, 'commas.csv');
    await writeBig(tmp, `${HEADER}\na@example.com,A,B,a@example.com,E1\n`, ',', 40 * 1024 ** 2, '\n');
    await rename(tmp, sub('inbox', 'commas.csv'));
    expect(await reasonFor('commas.csv')).toMatch(/commas\.csv: .*(fields|longer than).*\(line 3\)/);
    expect(watcher!.child.process.exitCode).toBeNull();
    expect(await peakRssMb(watcher!.child.process.pid!)).toBeLessThan(400);
    await expectStillWorking();
  }, 120_000);

  it('a 2 GB single CSV line is rejected with bounded memory (generated on the fly, deleted after)', async () => {
    await makeFolders();
    await start();
    const tmp = join(base, 'one-line.csv');
    await writeBig(tmp, 'userName,', 'a,', TWO_GB);
    expect((await stat(tmp)).size).toBeGreaterThanOrEqual(TWO_GB);
    await rename(tmp, sub('inbox', 'one-line.csv'));
    expect(await reasonFor('one-line.csv', 240_000)).toMatch(/one-line\.csv: .*(fields|longer than|columns)/);
    expect(await peakRssMb(watcher!.child.process.pid!)).toBeLessThan(400);
    await rm(sub('rejected'), { recursive: true, force: true });
  }, 300_000);

  it('a 2 GB single NDJSON line is one invalid row, read with bounded memory', async () => {
    await makeFolders();
    await start();
    const tmp = join(base, 'one-line.ndjson');
    await writeBig(tmp, '{"userName":"', 'a', TWO_GB, '"}\n');
    expect((await stat(tmp)).size).toBeGreaterThanOrEqual(TWO_GB);
    await rename(tmp, sub('inbox', 'one-line.ndjson'));
    const sidecar = await eventually(
      'archived',
      async () => (await names(sub('reports'))).find((n) => n.endsWith('__one-line.ndjson.drop.json')),
      240_000,
    );
    const id = sidecar.slice(0, 16);
    const rows = await ns.ledger.getRows(id, [1]);
    expect(rows[0]?.state).toBe('invalid');
    expect(rows[0]?.outcome.error).toMatch(/one-line\.ndjson row 1 \(line 1\): is longer than/);
    expect(await peakRssMb(watcher!.child.process.pid!)).toBeLessThan(400);
    await rm(sub('archive'), { recursive: true, force: true });
  }, 300_000);

  it('a file that crashed the watcher twice is quarantined, not retried forever', async () => {
    await makeFolders();
    // Big enough that ingesting it takes a while: the kills land mid-ingest.
    const rows = Array.from(
      { length: 120_000 },
      (_, i) => `p${i}@example.com,Given${i},Family${i},p${i}@example.com,E${i}`,
    ).join('\n');
    const content = `${HEADER}\n${rows}\n`;
    const id = dropIdOf(content);
    for (let crash = 1; crash <= 2; crash += 1) {
      // The second start resumes the file before it reports ready: do not wait for that.
      const w = (watcher = await startWatcher(dir, { prefix: ns.prefix, waitReady: crash === 1 }));
      if (crash === 1) await drop('big.csv', content);
      // The first run starts the ingest; the second resumes it (the drop is already `ingesting`).
      await waitUntil(
        `ingest under way (${crash})`,
        async () =>
          crash === 1
            ? (await ns.ledger.getDrop(id))?.meta.status === 'ingesting'
            : (await w.output()).includes('resuming an ingest'),
        60_000,
        w.child,
      );
      w.child.process.kill('SIGKILL');
      await w.child.exited;
      watcher = undefined;
    }
    await start();
    const reason = await reasonFor('big.csv').catch(async (err: Error) => {
      throw new Error(`${err.message}\n${[...(await regularFiles()).keys()].join('\n')}\n${await watcher!.output()}`);
    });
    expect(reason).toMatch(/quarantined/);
    expect(await names(sub('processing'))).toEqual([]);
    expect((await lstat(sub('rejected', 'big.csv'))).isFile()).toBe(true);
    await expectStillWorking();
  }, 240_000);
});
