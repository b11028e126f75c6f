// CPU per row: the CPU time (user + system) of every pipeline process (the ingest, one identity,
// one extension and one status worker; not the simulator, not Redis) for a demo-shaped drop
// against a simulator with no latency and no limits, divided by the rows; beside the CPU per job
// of raw BullMQ no-op jobs (an addBulk producer and a worker process) on the same private Redis,
// measured before and after the drop. CPU time, unlike wall time, holds on a busy machine.
// Usage: npx tsx bench/cpu-per-row.ts [--quick] [--rows N] [--cpu-prof DIR]   (prints one JSON line)
//   --cpu-prof DIR: the workers run under `node --cpu-prof` (DIR/identity, DIR/extension, DIR/status)
//   and the result lists each one's top self-time functions (profiling inflates the figures).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { waitUntil } from '../src/demo/processes.ts';
import { emit, loadAverage, note, parseBenchArgs, round } from './lib/args.ts';
import { deletePrefix } from './lib/baseline.ts';
import { benchScript, runJsonChild, spawnChild } from './lib/child.ts';
import { summariseProfiles } from './lib/cpu-profile.ts';
import { benchDrop, writeDrop } from './lib/drops.ts';
import { procFigures } from './lib/proc.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { countCalls, diffStats, isIdentityRoute, isRoute, ROUTES } from './lib/sim.ts';
import { NO_LIMITS_ENV, startBenchStack } from './lib/stack.ts';
import { existingUserBody } from '../src/demo/generate.ts';
import { SIM_DEFAULTS } from '../src/shared/config.ts';

const args = parseBenchArgs(process.argv.slice(2));
const rows = args.rows ?? (args.quick ? 2_000 : 20_000);
const profArg = process.argv.indexOf('--cpu-prof');
const profDir = profArg >= 0 ? resolve(process.argv[profArg + 1] ?? 'cpu-prof') : undefined;
const env = NO_LIMITS_ENV;
const ROLES = ['identity', 'extension', 'status'] as const;
const baselineConcurrency = 8;
const ingestChild = benchScript('children/ingest-child.js');

/** Calls per Redis command so far (INFO commandstats). */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const m of (await client.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    calls.set(m[1]!, Number(m[2]));
  return calls;
}

interface IngestChildResult {
  dropId: string;
  rows: number;
  seconds: number;
  cpuMs: number;
}

/**
 * Raw BullMQ: `jobs` no-op jobs added by a producer process (addBulk, 1,000 at a time) and run by
 * a worker process. CPU of both, from the worker's registration to the empty queue.
 */
async function noopJobsCpu(redisUrl: string, jobs: number): Promise<{ jobs: number; cpuMs: number; msPerJob: number }> {
  const prefix = `{bench-noop-${randomBytes(4).toString('hex')}}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection, prefix });
  queue.on('error', () => undefined);
  const worker = spawnChild(benchScript('children/noop-worker.js'), [
    redisUrl,
    prefix,
    'noop',
    String(baselineConcurrency),
  ]);
  const exited = new Promise<void>((r) => worker.once('exit', () => r()));
  try {
    await waitUntil('noop worker', async () => (await queue.getWorkersCount()) >= 1, 60_000);
    const before = (await procFigures(worker.pid!)).cpuMs;
    const producer = await runJsonChild<{ cpuMs: number }>(ingestChild, ['addbulk', String(jobs), redisUrl, prefix]);
    await waitUntil(
      'noop jobs done',
      async () => {
        const c = await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
        return (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) === 0;
      },
      30 * 60_000,
    );
    const cpuMs = producer.result.cpuMs + (await procFigures(worker.pid!)).cpuMs - before;
    return { jobs, cpuMs, msPerJob: round(cpuMs / jobs, 4) };
  } finally {
    worker.kill('SIGTERM');
    await exited;
    await queue.close();
    await deletePrefix(connection, prefix);
    await connection.quit();
  }
}

const redis = await startBenchRedis();
const dir = await mkdtemp(join(tmpdir(), 'provision-bench-cpu-'));
try {
  const loadAtStart = await loadAverage();
  note(`cpu-per-row: raw BullMQ baseline, ${rows} no-op jobs`);
  const before = await noopJobsCpu(redis.url, rows);
  note(`cpu-per-row: ${before.msPerJob} CPU ms per no-op job; now the pipeline on ${rows} rows`);
  const workerNodeArgs = profDir
    ? Object.fromEntries(ROLES.map((role) => [role, ['--cpu-prof', `--cpu-prof-dir=${join(profDir, role)}`]]))
    : undefined;
  if (profDir) for (const role of ROLES) await mkdir(join(profDir, role), { recursive: true });
  const stack = await startBenchStack({ redisUrl: redis.url, env, ...(workerNodeArgs ? { workerNodeArgs } : {}) });
  let pipeline;
  try {
    const drop = benchDrop(rows, 'demo');
    if (drop.existing.length > 0)
      await stack.sim.createUsers(drop.existing.map((r) => existingUserBody(r, SIM_DEFAULTS.companyId)));
    const file = join(dir, `bench-demo-${rows}.csv`);
    await writeDrop(file, drop.records);
    const pids = Object.fromEntries(
      ROLES.map((role) => [role, stack.processes().find((c) => c.name === `worker-${role}-1`)!.process.pid!]),
    );
    const figures0 = Object.fromEntries(
      await Promise.all(ROLES.map(async (role) => [role, await procFigures(pids[role]!)] as const)),
    );
    const calls0 = await stack.sim.stats();
    const commands0 = await commandCalls(redis.client);
    const t0 = performance.now();
    // The ingest is a process of its own, on the compiled build, as `provision ingest` runs.
    const ingest = (
      await runJsonChild<IngestChildResult>(ingestChild, ['ingest', file, redis.url, stack.prefix], stack.env)
    ).result;
    const final = await stack.waitComplete(ingest.dropId, { intervalMs: 250 });
    const seconds = (performance.now() - t0) / 1000;
    const calls = diffStats(calls0, await stack.sim.stats());
    // Every command costs a socket write and a read in the process that sends it (the workers'
    // profiles show it): commands per row are what CPU per row follows.
    const commands = [...(await commandCalls(redis.client))]
      .map(([name, n]) => [name, n - (commands0.get(name) ?? 0)] as const)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]);
    const perRole: Record<string, { cpuMs: number; msPerRow: number; writesPerRow?: number; readsPerRow?: number }> = {
      ingest: { cpuMs: ingest.cpuMs, msPerRow: round(ingest.cpuMs / ingest.rows, 4) },
    };
    for (const role of ROLES) {
      const now = await procFigures(pids[role]!);
      const was = figures0[role]!;
      const cpuMs = now.cpuMs - was.cpuMs;
      perRole[role] = {
        cpuMs,
        msPerRow: round(cpuMs / ingest.rows, 4),
        // System calls: each socket write (a Redis command or pipeline, an HTTP request) and read.
        writesPerRow: round((now.writeCalls - was.writeCalls) / ingest.rows, 3),
        readsPerRow: round((now.readCalls - was.readCalls) / ingest.rows, 3),
      };
    }
    const cpuMs = Object.values(perRole).reduce((a, r) => a + r.cpuMs, 0);
    pipeline = {
      rows: ingest.rows,
      done: final.counts.done ?? 0,
      invalid: final.counts.invalid ?? 0,
      seconds: round(seconds, 2),
      rowsPerSecond: round(ingest.rows / seconds),
      cpuMs,
      msPerRow: round(cpuMs / ingest.rows, 4),
      roles: perRole,
      redisCommands: {
        perRow: round(commands.reduce((a, [, n]) => a + n, 0) / ingest.rows, 2),
        top: Object.fromEntries(commands.slice(0, 8).map(([name, n]) => [name, round(n / ingest.rows, 2)])),
        note: 'per row, all clients (the pipeline processes and this benchmark polling the ledger every 250 ms)',
      },
      calls: {
        identity: countCalls(calls, isIdentityRoute),
        bulk: countCalls(calls, isRoute(ROUTES.bulk)),
        status: countCalls(calls, isRoute(ROUTES.status)),
      },
    };
  } finally {
    // The workers write their profiles as they exit.
    await stack.stop();
  }
  const after = await noopJobsCpu(redis.url, rows);
  const msPerJob = round((before.cpuMs + after.cpuMs) / (before.jobs + after.jobs), 4);
  const ofNoopJob = round(pipeline.msPerRow / msPerJob, 2);
  note(
    `cpu-per-row: ${pipeline.msPerRow} CPU ms per row (${ROLES.map((r) => `${r} ${pipeline.roles[r]?.msPerRow}`).join(', ')}, ingest ${pipeline.roles.ingest?.msPerRow}); no-op job ${msPerJob} ms: ${ofNoopJob} ×`,
  );
  emit({
    bench: 'cpu-per-row',
    rows: pipeline.rows,
    pipeline,
    baseline: { before, after, msPerJob },
    ofNoopJob,
    target: {
      msPerRowAtMost: 0.5,
      ofNoopJobAtMost: 4,
      met: pipeline.msPerRow <= 0.5 && ofNoopJob <= 4,
    },
    ...(profDir
      ? {
          profiled: true,
          profiles: Object.fromEntries(
            await Promise.all(ROLES.map(async (role) => [role, await summariseProfiles(join(profDir, role))] as const)),
          ),
        }
      : {}),
    settings: {
      workers: { identity: 1, extension: 1, status: 1 },
      env,
      baselineConcurrency,
      drop: 'demo generator (org tree, 2.5% bad rows, 1 in 12 existing)',
      note: 'CPU time from /proc (clock ticks) for the workers, process.cpuUsage for the ingest process (after its imports); workers measured from just before the ingest to the drop completion',
    },
    loadAverage: { start: loadAtStart, end: await loadAverage() },
    redis: redis.version,
  });
} finally {
  await rm(dir, { recursive: true, force: true });
  await redis.stop();
}
