import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { generateDrop, prng, toCsv, type DemoDrop } from '../../src/demo/generate.ts';
import { runCli, waitUntil, type Child } from '../../src/demo/processes.ts';
import { seedExistingPeople } from '../../src/demo/seed.ts';
import { dropKeys } from '../../src/shared/keys.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { ACTIVE_STATES, TERMINAL_STATES } from '../../src/shared/ledger/states.ts';
import { QUEUE_NAMES, queueKeyPrefix } from '../../src/shared/queues/index.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

/*
 * Chaos run in real processes: a generated drop through two workers of each role against a
 * simulator failing every way Concur does (transient faults, answers lost after the write,
 * a search lagging 2 s, 3-second tokens with rotating refresh tokens, userNames held by another
 * company, a move of data center mid-run), while worker processes are kill -9'd and restarted and
 * Redis (a private server with AOF) is killed and restarted once. Shared by the CI-sized e2e test
 * and the long `npm run test:chaos` variant.
 */

export interface ChaosParams {
  rows: number;
  kills: number;
  seed: number;
  /** Workers per role. */
  workersPerRole: number;
  /** Milliseconds between kills: uniform in [min, max]. */
  killGapMs: [number, number];
  /** How long a killed worker stays down before its restart. */
  downMs: [number, number];
  /** Simulator rate limits (429 bursts when the pipeline's own limit is above). */
  identityRps: number;
  upsRps: number;
  /** Upper bound for the whole run once the kills are over. */
  settleTimeoutMs: number;
  /** Rows whose userName another company holds (knob foreignUserNames): they must end PROV_ERR_USERNAME_TAKEN. */
  foreignRows?: number;
}

export interface ChaosResult {
  drop: DemoDrop;
  dropId: string;
  rows: number;
  counts: Record<string, number>;
  reportStates: Record<string, number>;
  reportRows: number;
  simUsers: SimStateUser[];
  failedJobs: { queue: string; id: string | undefined; rows: number[]; reason: string }[];
  unsettledFailedRows: number[];
  kills: { role: string; at: number }[];
  redisRestarted: boolean;
  /** Times the identity stage's stranded-rows repair re-enqueued rows. */
  repairs: number;
  faults: Record<string, number>;
  /** The simulator's injected-fault counters (applyThenFail, error, reset, hang, rateLimited). */
  injected: Record<string, number>;
  /** Row numbers whose userName belongs to another company. */
  foreign: number[];
  /** Row outcomes of the foreign rows (state, code). */
  foreignOutcomes: { row: number; state: string; code: unknown }[];
  /** When the company moved data center (ms into the run), and the new geolocation. */
  relocatedAt: number | undefined;
  /** Token grants that fell back to the request token after a refresh token was refused. */
  refreshFallbacks: number;
  /** From the first kill's wait to every row settled. */
  durationMs: number;
}

export type SimStateUser = Record<string, unknown> & {
  userName: string;
  active: boolean;
  title?: string;
  name?: { givenName?: string; familyName?: string };
};

const ROLES = ['identity', 'extension', 'status'] as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function patchSim(simUrl: string, knobs: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${simUrl}/_sim/config`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(knobs),
  });
  if (!res.ok) throw new Error(`PATCH /_sim/config: ${res.status} ${await res.text()}`);
}

export async function simState(simUrl: string): Promise<SimStateUser[]> {
  return ((await (await fetch(`${simUrl}/_sim/state`)).json()) as { users: SimStateUser[] }).users;
}

/** The env every chaos process shares (on top of the stack's defaults). */
export function chaosEnv(redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    // Hangs cost one short timeout each, not 30 s.
    CONCUR_TIMEOUT_MS: '2000',
    IDENTITY_MAX_RPS: '1000',
    UPS_MAX_RPS: '1000',
    MAX_DEACTIVATIONS: '100000',
    MAX_DEACTIVATION_PERCENT: '100',
    MAX_FAILURE_PERCENT: '100',
    SHUTDOWN_DEADLINE_MS: '5000',
    // A kill -9'd worker's job is taken over after ~5 s, not a minute.
    WORKER_LOCK_MS: '5000',
    // The safety net for a lost release checks often enough to matter within the settle timeout.
    IDENTITY_REPAIR_INTERVAL_MS: '6000',
    // The simulator's search lags 2 s; a userName of another company is given up on after 15 s.
    CONFLICT_RESOLVE_MAX_MS: '15000',
    ...extra,
  };
}

export async function runChaos(
  params: ChaosParams,
  onLog: (line: string) => void = () => undefined,
): Promise<ChaosResult> {
  const random = prng(params.seed);
  const between = ([lo, hi]: [number, number]): number => Math.round(lo + random() * (hi - lo));
  const redisServer: PrivateRedis = await startPrivateRedis();
  let stack: Stack | undefined;
  let proxy: TcpProxy | undefined;
  let dropIdSeen: string | undefined;
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
  try {
    // The second data center's address is known before any process starts, so every one trusts it.
    let simUrl = '';
    proxy = await startTcpProxy(() => simUrl);
    stack = await startStack({ env: chaosEnv(redisServer.url, { CONCUR_TRUSTED_ORIGINS: proxy.url }) });
    const s = stack;
    simUrl = s.simUrl;
    const drop = generateDrop({ people: params.rows, seed: params.seed });
    await seedExistingPeople(s.simUrl, drop.existing);
    const foreign = pickForeignRows(drop, params.foreignRows ?? 0);
    // Every way Concur fails at once (docs/simulator.md#how-concur-fails); the move of data
    // center comes mid-run.
    await patchSim(s.simUrl, {
      seed: params.seed,
      errorRate: 0.05,
      hangRate: 0.01,
      resetRate: 0.01,
      applyThenFailRate: 0.05,
      searchLagMs: 2000,
      foreignUserNames: foreign.map((row) => drop.records[row - 1]!.userName),
      rotateRefreshTokens: true,
      identityRps: params.identityRps,
      upsRps: params.upsRps,
      burstSeconds: 0.25,
      tokenLifetimeS: 3,
    });

    // Slots: one child per (role, index); the stack started index 0 of each role.
    const slots = new Map<string, Child>();
    for (const role of ROLES)
      slots.set(
        `${role}-0`,
        s.children.find((c) => c.name === `worker-${role}`)!,
      );
    for (const role of ROLES)
      for (let i = 1; i < params.workersPerRole; i += 1)
        slots.set(`${role}-${i}`, s.start(`worker-${role}-${i}`, ['worker', role]));

    const file = join(s.logDir, 'chaos.csv');
    await writeFile(file, toCsv(drop.records));
    const ingest = await runCli(['ingest', file, '--json'], s.env);
    if (ingest.code !== 0) throw new Error(`ingest failed (${ingest.code}): ${ingest.stderr}`);
    const dropId = (JSON.parse(ingest.stdout.trim()) as { dropId: string }).dropId;
    dropIdSeen = dropId;
    const ledger = new Ledger(redis, s.prefix);
    onLog(`drop ${dropId}: ${drop.records.length} rows, ${drop.bad.length} bad, ${drop.existing.length} existing`);

    // Kills: every role at least once (round-robin start), then random slots; Redis once, a third of the way in.
    const kills: ChaosResult['kills'] = [];
    const redisAt = Math.max(1, Math.floor(params.kills / 3));
    const relocateAt = Math.max(2, Math.floor(params.kills / 2));
    let redisRestarted = false;
    let relocatedAt: number | undefined;
    const started = Date.now();
    let restarts: Promise<void>[] = [];
    for (let k = 0; k < params.kills; k += 1) {
      await sleep(between(params.killGapMs));
      const role = k < ROLES.length ? ROLES[k]! : ROLES[Math.floor(random() * ROLES.length)]!;
      const index = Math.floor(random() * params.workersPerRole);
      const key = `${role}-${index}`;
      const victim = slots.get(key)!;
      victim.process.kill('SIGKILL');
      await victim.exited;
      kills.push({ role, at: Date.now() - started });
      const down = between(params.downMs);
      restarts.push(
        (async () => {
          await sleep(down);
          slots.set(key, s.start(`worker-${key}-r${k}`, ['worker', role]));
        })(),
      );
      if (k === relocateAt) {
        await patchSim(s.simUrl, { relocateTo: proxy.url });
        relocatedAt = Date.now() - started;
        onLog(`company moved to ${proxy.url} at ${relocatedAt} ms`);
      }
      if (k === redisAt) {
        await redisServer.kill();
        onLog(`redis killed at ${Date.now() - started} ms`);
        await sleep(1500);
        await redisServer.restart();
        redisRestarted = true;
      }
    }
    await Promise.all(restarts);
    restarts = [];
    onLog(`kills done at ${Date.now() - started} ms`);

    const rows = drop.records.length;
    let lastLog = 0;
    await waitUntil(
      'every row terminal',
      async () => {
        const view = await ledger.getDrop(dropId);
        if (view && Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          onLog(
            `${Date.now() - started} ms: ${JSON.stringify(Object.fromEntries(Object.entries(view.counts).filter(([, n]) => n > 0)))}`,
          );
        }
        return view !== undefined && view.terminal === rows;
      },
      params.settleTimeoutMs,
    );
    onLog(`settled at ${Date.now() - started} ms`);
    // How often the safety net had to re-enqueue stranded rows (0 when every release went through).
    const logText = await s.logs();
    const repairs = logText.split('\n').filter((l) => l.includes('re-enqueued the stranded rows'));
    const refreshFallbacks = logText
      .split('\n')
      .filter((l) => l.includes('concur token grant refused') && l.includes('"grant":"refresh_token"')).length;
    onLog(`refresh tokens refused, request token used instead: ${refreshFallbacks}`);
    onLog(`stranded-rows repairs: ${repairs.length}${repairs.length > 0 ? `\n${repairs.join('\n')}` : ''}`);

    const view = (await ledger.getDrop(dropId))!;
    const report = await runCli(['report', dropId, '--format', 'jsonl'], s.env);
    if (report.code !== 0) throw new Error(`report failed: ${report.stderr}`);
    const reportStates: Record<string, number> = {};
    let reportRows = 0;
    for (const line of report.stdout.split('\n')) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as { state: string };
      reportStates[rec.state] = (reportStates[rec.state] ?? 0) + 1;
      reportRows += 1;
    }

    // Failed jobs: the identity ones name their rows; every row must be settled.
    const failedJobs: ChaosResult['failedJobs'] = [];
    for (const name of QUEUE_NAMES) {
      const q = new Queue(name, { connection: redis, prefix: queueKeyPrefix(s.prefix, name) });
      for (const job of await q.getFailed(0, -1)) {
        const data = job.data as { rows?: number[] };
        failedJobs.push({ queue: name, id: job.id, rows: data.rows ?? [], reason: job.failedReason });
      }
      await q.close();
    }
    const failedRows = [...new Set(failedJobs.flatMap((j) => j.rows))];
    const states = await ledger.getRows(dropId, failedRows);
    const unsettledFailedRows = states
      .filter((r) => !TERMINAL_STATES.includes(r.state as (typeof TERMINAL_STATES)[number]))
      .map((r) => r.row);

    const statsRes = (await (await fetch(`${s.simUrl}/_sim/stats`)).json()) as {
      routes: Record<string, Record<string, number>>;
      faults: Record<string, number>;
    };
    const foreignOutcomes = (await ledger.getRows(dropId, foreign)).map((r) => ({
      row: r.row,
      state: r.state,
      code: r.outcome.code,
    }));
    const faults: Record<string, number> = {};
    for (const statuses of Object.values(statsRes.routes))
      for (const [status, n] of Object.entries(statuses)) faults[status] = (faults[status] ?? 0) + n;

    return {
      drop,
      dropId,
      rows,
      counts: view.counts,
      reportStates,
      reportRows,
      simUsers: await simState(s.simUrl),
      failedJobs,
      unsettledFailedRows,
      kills,
      redisRestarted,
      repairs: repairs.length,
      faults,
      injected: statsRes.faults,
      foreign,
      foreignOutcomes,
      relocatedAt,
      refreshFallbacks,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    if (stack) onLog(await stack.logs());
    if (stack && dropIdSeen)
      onLog(
        await describeStuckRows(redis, stack.prefix, dropIdSeen).catch(
          (e: unknown) => `could not describe the stuck rows: ${String(e)}`,
        ),
      );
    throw err;
  } finally {
    redis.disconnect();
    await stack?.stop();
    await proxy?.close();
    await redisServer.stop();
  }
}

export const ACTIVE = ACTIVE_STATES;

/**
 * Rows whose userName another company will hold: valid, new, active people nobody in the file
 * refers to (as manager, approver or travel manager), so their failure touches no other row.
 */
function pickForeignRows(drop: DemoDrop, n: number): number[] {
  if (n <= 0) return [];
  const bad = new Set(drop.bad.map((b) => b.row));
  const existing = new Set(drop.existing.map((e) => e.userName.toLowerCase()));
  const referenced = new Set(
    drop.records.flatMap((r) => [
      r.managerEmployeeNumber,
      r['spend.reportApproverEmployeeNumber'],
      r['travel.managerEmployeeNumber'],
    ]),
  );
  const rows: number[] = [];
  drop.records.forEach((r, i) => {
    const row = i + 1;
    if (rows.length >= n || bad.has(row) || r.active !== 'true') return;
    if (existing.has(r.userName.toLowerCase()) || referenced.has(r.employeeNumber)) return;
    // Spread over the file rather than the first few.
    if (row % 97 === 0) rows.push(row);
  });
  return rows;
}

/**
 * What a row left active is waiting for: its state and outcome, the row it was deferred to (or
 * its manager's row) with that row's state and uuid, and whether it is still in that row's waiter
 * set. A failed chaos run prints this, so a lost release can be traced to its cause.
 */
async function describeStuckRows(redis: Redis, prefix: string, dropId: string): Promise<string> {
  const k = dropKeys(prefix, dropId);
  const states = await redis.hgetall(k.rows);
  const stuck = Object.entries(states)
    .filter(([, st]) => (ACTIVE_STATES as readonly string[]).includes(st))
    .slice(0, 20);
  const lines: string[] = [`${stuck.length} active rows (first 20):`];
  for (const [row, state] of stuck) {
    const data = JSON.parse((await redis.hget(k.data, row)) ?? '{}') as { managerEmployeeNumber?: string };
    const deferredTo = await redis.hget(k.emp, `\0d:${row}`);
    const managerRow = data.managerEmployeeNumber ? await redis.hget(k.emp, data.managerEmployeeNumber) : null;
    const target = deferredTo ?? managerRow;
    const targetState = target ? await redis.hget(k.rows, target) : null;
    const targetOut = target ? await redis.hget(k.out, target) : null;
    const inWaiters = target ? await redis.sismember(`${k.waitersPrefix}${target}`, row) : 0;
    lines.push(
      JSON.stringify({
        row,
        state,
        out: await redis.hget(k.out, row),
        manager: data.managerEmployeeNumber,
        deferredTo,
        managerRow,
        targetState,
        targetOut,
        inWaiters,
        targetWaiters: target ? await redis.smembers(`${k.waitersPrefix}${target}`) : [],
      }),
    );
  }
  return lines.join('\n');
}
