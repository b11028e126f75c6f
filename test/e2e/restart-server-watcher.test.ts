import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDrop, toCsv } from '../../src/demo/generate.ts';
import { waitUntil, type Child } from '../../src/demo/processes.ts';
import type { ArchiveSidecar } from '../../src/producers/watch.ts';
import { patchSim, simState } from '../chaos/harness.ts';
import { STACK_AUTH, startStack, type Stack } from '../helpers/stack.ts';

const PEOPLE = 500;
const auth = `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`;

interface DropView {
  status: string;
  fraction: number;
  counts: Record<string, number>;
}

/*
 * The server and the watcher hold no state of their own: both are killed (-9) mid-drop, the drop
 * goes on without them, and once restarted the watcher still writes the report and the server
 * still shows the drop reaching 100%.
 */
describe('server and watcher restarted mid-drop (e2e)', () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'provision-restart-e2e-'));
    stack = await startStack({ server: true });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const dropView = async (dropId: string): Promise<DropView | undefined> => {
    const res = await fetch(`${stack.serverUrl}/drops/${dropId}`, { headers: { authorization: auth } }).catch(
      () => undefined,
    );
    return res?.ok ? ((await res.json()) as DropView) : undefined;
  };
  const kill = async (child: Child): Promise<void> => {
    child.process.kill('SIGKILL');
    await child.exited;
  };

  it('loses nothing: the drop completes, the restarted watcher writes the report, the restarted server shows it', async () => {
    // Slow enough that the kills land while rows are still in flight.
    await patchSim(stack.simUrl, { latencyMs: 40, identityRps: 60, burstSeconds: 0.2 });
    const watcher = stack.start('watcher', ['watch', dir]);
    await waitUntil('watch folders', async () => (await readdir(dir)).includes('rejected'), 30_000, watcher);
    const drop = generateDrop({ people: PEOPLE, seed: 21 });
    await writeFile(join(dir, 'people.csv.partial'), toCsv(drop.records));
    await rename(join(dir, 'people.csv.partial'), join(dir, 'inbox', 'people.csv'));

    let sidecarName = '';
    await waitUntil(
      'archived',
      async () => {
        sidecarName = (await readdir(join(dir, 'reports'))).find((n) => n.endsWith('__people.csv.drop.json')) ?? '';
        return sidecarName !== '';
      },
      30_000,
      watcher,
    );
    const { dropId } = JSON.parse(await readFile(join(dir, 'reports', sidecarName), 'utf8')) as ArchiveSidecar;
    await waitUntil(
      'server sees progress',
      async () => {
        const v = await dropView(dropId);
        return v !== undefined && v.fraction > 0.05;
      },
      60_000,
    );
    const before = (await dropView(dropId))!;
    expect(before.fraction, 'the kills must land mid-drop').toBeLessThan(1);

    const server = stack.children.find((c) => c.name === 'server')!;
    await Promise.all([kill(watcher), kill(server)]);
    // The workers carry on without them.
    await new Promise((r) => setTimeout(r, 1_500));

    const serverAgain = stack.start('server-again', ['serve']);
    await waitUntil(
      'server again',
      async () => (await fetch(`${stack.serverUrl}/healthz`).catch(() => undefined))?.ok === true,
      30_000,
      serverAgain,
    );
    const watcherAgain = stack.start('watcher-again', ['watch', dir]);

    let sidecar: ArchiveSidecar | undefined;
    await waitUntil(
      'report after restart',
      async () => {
        sidecar = JSON.parse(await readFile(join(dir, 'reports', sidecarName), 'utf8')) as ArchiveSidecar;
        return sidecar.reportFile !== undefined;
      },
      90_000,
      watcherAgain,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await stack.logs()}`);
    });

    const expectedDone = PEOPLE - drop.bad.length - drop.deactivated.length;
    expect(sidecar?.status).toBe('complete');
    expect(sidecar?.states?.invalid).toBe(drop.bad.length);
    const report = (await readFile(join(dir, 'reports', sidecar!.reportFile!), 'utf8')).trim().split('\r\n');
    expect(report).toHaveLength(PEOPLE + 1);
    const rowsByState = new Map<string, number>();
    for (const line of report.slice(1)) {
      const state = /,(done|unchanged|invalid|[a-z_]+_failed|timed_out),/.exec(line)?.[1] ?? 'other';
      rowsByState.set(state, (rowsByState.get(state) ?? 0) + 1);
    }
    expect(Object.fromEntries(rowsByState)).toEqual(
      Object.fromEntries(
        [
          ['done', expectedDone],
          ['invalid', drop.bad.length],
          ['unchanged', drop.deactivated.length],
        ].filter(([, n]) => n !== 0),
      ),
    );

    const after = (await dropView(dropId))!;
    expect(after.status).toBe('complete');
    expect(after.fraction).toBe(1);
    expect(after.counts.done).toBe(expectedDone);

    // Concur holds each person once.
    const names = (await simState(stack.simUrl)).map((u) => u.userName);
    expect(names.length).toBe(new Set(names).size);
    expect(names.length).toBe(expectedDone);

    watcherAgain.process.kill('SIGTERM');
    expect(await watcherAgain.exited).toBe(0);
  });
});
