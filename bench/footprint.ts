// What each role costs while a drop runs at Concur's pace, for the Kubernetes requests and limits
// (deploy/kubernetes, docs/scaling.md): the rate-limit scenario (Identity limited to R calls/s,
// 50 ± 20 ms) with one process per role plus the server, scraped for /metrics every second.
// Reads every process's peak resident memory (VmHWM) and CPU time from /proc; reports per role
// the peak RSS, the average CPU (cores) over the drop and the CPU time per row.
// Usage: npx tsx bench/footprint.ts [--quick] [--rows N] [--rps R]   (prints one JSON line)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startCli, stopAll, waitUntil } from '../src/demo/processes.ts';
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { procFigures } from './lib/proc.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { runDrop } from './lib/run-drop.ts';
import { SHORT_TAIL_ENV, startBenchStack } from './lib/stack.ts';

const args = parseBenchArgs(process.argv.slice(2));
const rows = args.rows ?? (args.quick ? 1_000 : 10_000);
const rpsArg = process.argv.indexOf('--rps');
const R = rpsArg >= 0 ? Number(process.argv[rpsArg + 1]) : 200;
const UPS_R = 20;
const env = {
  IDENTITY_MAX_RPS: String(R),
  IDENTITY_CONCURRENCY: '16',
  UPS_MAX_RPS: String(UPS_R),
  ...SHORT_TAIL_ENV,
  METRICS_FLUSH_MS: '1000',
  DASHBOARD_INSECURE: 'true',
};
const knobs = { identityRps: R, upsRps: UPS_R, latencyMs: 30, jitterMs: 40, extensionDelayMs: 200 };
const ROLES = ['identity', 'extension', 'status', 'server'] as const;
type Role = (typeof ROLES)[number];

const redis = await startBenchRedis();
const logDir = await mkdtemp(join(tmpdir(), 'provision-bench-footprint-'));
try {
  const stack = await startBenchStack({ redisUrl: redis.url, env });
  const port = await freePort();
  const server = startCli('server', ['serve', '--port', String(port)], stack.env, logDir);
  const pids = new Map<Role, number>();
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntil('server', async () => (await fetch(`${base}/readyz`)).ok, 30_000, server);
    for (const role of ROLES.slice(0, 3)) {
      const child = stack.processes().find((c) => c.name === `worker-${role}-1`);
      if (child?.process.pid) pids.set(role, child.process.pid);
    }
    pids.set('server', server.process.pid!);
    const before = new Map<Role, number>();
    for (const [role, pid] of pids) before.set(role, (await procFigures(pid)).cpuMs);
    // Prometheus scrapes every 15-30 s; once a second is the heavier case.
    const scraper = setInterval(
      () =>
        void fetch(`${base}/metrics`).then(
          (r) => r.text(),
          () => undefined,
        ),
      1_000,
    );
    const t0 = performance.now();
    note(`footprint: ${rows} rows, Identity limited to ${R}/s`);
    let run;
    try {
      run = await runDrop(stack, rows, 'demo', { afterSeed: () => stack.sim.configure(knobs) });
    } finally {
      clearInterval(scraper);
    }
    const wallS = (performance.now() - t0) / 1000;
    const roles: Record<string, { peakRssMb: number; cpuSeconds: number; cores: number; cpuMsPerRow: number }> = {};
    for (const [role, pid] of pids) {
      const now = await procFigures(pid);
      const cpuMs = now.cpuMs - (before.get(role) ?? 0);
      roles[role] = {
        peakRssMb: now.peakRssMb,
        cpuSeconds: round(cpuMs / 1000, 2),
        cores: round(cpuMs / 1000 / run.seconds, 3),
        cpuMsPerRow: round(cpuMs / run.rows, 3),
      };
    }
    const result = {
      bench: 'footprint',
      rows: run.rows,
      states: run.states,
      R,
      seconds: run.seconds,
      wallSeconds: round(wallS, 1),
      roles,
      settings: { env, knobs, workers: { identity: 1, extension: 1, status: 1, server: 1 }, scrapeEverySeconds: 1 },
      redis: redis.version,
    };
    note(
      `footprint: ${ROLES.map((r) => `${r} ${roles[r]?.peakRssMb} MB ${roles[r]?.cores} cores`).join('; ')} (${run.seconds} s)`,
    );
    emit(result);
  } finally {
    await stopAll([server], 15_000);
    await stack.stop();
  }
} finally {
  await redis.stop();
  await rm(logDir, { recursive: true, force: true });
}
