import { mkdtemp, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDrop, toCsv } from '../../src/demo/generate.ts';
import { waitUntil } from '../../src/demo/processes.ts';
import type { ArchiveSidecar } from '../../src/producers/watch.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe('watch folder with real processes (e2e)', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provision-watch-e2e-'));
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('archives a dropped file with a complete report, rejects a bad one, and stops cleanly on SIGTERM', async () => {
    const watcher = stack.start('watcher', ['watch', dir]);
    await waitUntil('watch folders', async () => (await readdir(dir)).includes('rejected'), 30_000, watcher);
    const drop = generateDrop({ people: 200, seed: 3 });
    // Written elsewhere and moved in whole, as a careful sender does; the watcher still waits for a stable size.
    await writeFile(join(dir, 'people.csv.partial'), toCsv(drop.records));
    await rename(join(dir, 'people.csv.partial'), join(dir, 'inbox', 'people.csv'));
    await writeFile(join(dir, 'inbox', 'broken.csv'), 'userName,givenName\n"unclosed,x\n');

    let sidecar: ArchiveSidecar | undefined;
    await waitUntil(
      'report',
      async () => {
        const name = (await readdir(join(dir, 'reports'))).find((n) => n.endsWith('__people.csv.drop.json'));
        if (!name) return false;
        sidecar = JSON.parse(await readFile(join(dir, 'reports', name), 'utf8')) as ArchiveSidecar;
        return sidecar.reportFile !== undefined;
      },
      50_000,
      watcher,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await stack.logs()}`);
    });
    expect(sidecar?.status).toBe('complete');
    expect(sidecar?.states?.invalid).toBe(drop.bad.length);
    const report = (await readFile(join(dir, 'reports', sidecar!.reportFile!), 'utf8')).trim().split('\r\n');
    expect(report).toHaveLength(201);
    expect(report.slice(1).every((line) => /,(done|unchanged|invalid),/.test(line))).toBe(true);
    expect(await readFile(join(dir, 'reports', 'broken.csv.reason.txt'), 'utf8')).toContain('broken.csv');
    expect(await readdir(join(dir, 'inbox'))).toEqual([]);

    watcher.process.kill('SIGTERM');
    expect(await watcher.exited).toBe(0);
  });
});
