import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/shared/config.ts';
import { createConcurClient, type ConcurClient } from '../../src/shared/concur/index.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../src/shared/logger.ts';
import type { NormalizedRow, TemplateRow } from '../../src/shared/mapping/types.ts';
import { createQueues, type PipelineQueues } from '../../src/shared/queues/index.ts';
import { SharedRateLimiter } from '../../src/shared/rate-limiter.ts';
import { createExtensionHandoff, type ExtensionHandoff } from '../../src/shared/provisions/handoff.ts';
import { extensionStage } from '../../src/workers/extension/stage.ts';
import { ProvisionStore } from '../../src/shared/provisions/store.ts';
import { statusStage } from '../../src/workers/status/stage.ts';
import { createStageWorker } from '../../src/workers/start-worker.ts';
import { deletePrefix, TEST_REDIS_URL, testRedis, uniquePrefix } from './redis.ts';
import { startSimulator, type StartedSimulator } from './simulator.ts';
import type { KnobsInput } from '../../src/simulator/knobs.ts';

export interface StageOptions {
  knobs?: KnobsInput;
  env?: Record<string, string>;
}

/**
 * The extension and status stages in-process against a real Redis and the simulator: a unique
 * prefix per harness, BullMQ workers running the real processors, everything closed by `close()`.
 */
export interface StageHarness {
  sim: StartedSimulator;
  redis: Redis;
  prefix: string;
  config: Config;
  ledger: Ledger;
  queues: PipelineQueues;
  store: ProvisionStore;
  client: ConcurClient;
  handoff: ExtensionHandoff;
  /** `statusAttempts`: attempts of every status check job (default: the queue contract's). */
  startWorkers(options?: { statusAttempts?: number }): void;
  /** Creates identity users through Identity v4.1; returns their uuids in order. */
  createUsers(users: { userName: string; employeeNumber: string }[]): Promise<string[]>;
  /** A drop whose rows are `identity_done` with their uuids (the identity stage's hand-off state). */
  seedDrop(dropId: string, rows: NormalizedRow[], uuids: string[]): Promise<void>;
  waitComplete(dropId: string, timeoutMs?: number): Promise<void>;
  simJson<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  close(): Promise<void>;
}

const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function startStage(options: StageOptions = {}): Promise<StageHarness> {
  const sim = await startSimulator({ knobs: { extensionDelayMs: 20, ...options.knobs } });
  const redis = testRedis();
  const prefix = uniquePrefix('ext');
  const config = loadConfig({
    CONCUR_BASE_URL: sim.baseUrl,
    QUEUE_PREFIX: prefix,
    CONCUR_REQUEST_TOKEN: sim.sim.ctx.tenant.requestToken,
    EXTENSION_LINGER_MS: '200',
    STATUS_FIRST_DELAY_MS: '100',
    STATUS_MAX_DELAY_MS: '1000',
    UPS_MAX_RPS: '0',
    ...options.env,
  });
  const ledger = new Ledger(redis, prefix);
  const redisUrl = new URL(TEST_REDIS_URL);
  const connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379), maxRetriesPerRequest: null };
  const queues = createQueues(connection, prefix, log);
  const store = new ProvisionStore(redis, prefix);
  const client = createConcurClient({ config, redis, log });
  const limiter = new SharedRateLimiter(redis, `${prefix}:rate:ups`, { rps: config.UPS_MAX_RPS });
  const handoff = createExtensionHandoff({
    redis,
    queues,
    prefix,
    lingerMs: config.EXTENSION_LINGER_MS,
    maxOps: config.EXTENSION_BATCH_MAX_OPS,
    log,
  });
  const workers: Worker[] = [];

  const harness: StageHarness = {
    sim,
    redis,
    prefix,
    config,
    ledger,
    queues,
    store,
    client,
    handoff,
    startWorkers(startOptions = {}) {
      const attempts = startOptions.statusAttempts;
      const statusQueue: Pick<PipelineQueues['status'], 'add'> =
        attempts === undefined
          ? queues.status
          : { add: (name, data, opts) => queues.status.add(name, data, { ...opts, attempts }) };
      // The stages the worker commands start, with faster retries; their chores are driven by the tests.
      const parts = { config, redis, ledger, queues, log, limiter, statusQueue };
      const extension = extensionStage({ ...parts, ups: client.ups, overrides: { retryBaseMs: 50 } });
      const status = statusStage({ ...parts, status: client.status });
      const host = { connection, prefix, lockMs: config.WORKER_LOCK_MS, log };
      for (const stage of [extension, status])
        workers.push(createStageWorker(host, stage.queue, stage.processor, stage.worker));
      for (const w of workers) w.on('error', (err) => log.warn({ err }, 'worker error'));
    },
    async createUsers(users) {
      const uuids: string[] = new Array<string>(users.length);
      const CONCURRENCY = 16;
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < users.length) {
            const i = next++;
            const u = users[i]!;
            const created = await client.identity.create({
              schemas: [
                'urn:ietf:params:scim:schemas:core:2.0:User',
                'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
              ],
              userName: u.userName,
              active: true,
              name: { givenName: 'Test', familyName: `User${i}` },
              emails: [{ value: u.userName, type: 'work' }],
              'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
                employeeNumber: u.employeeNumber,
                companyId: sim.sim.ctx.tenant.companyId,
              },
            });
            uuids[i] = created.id;
          }
        }),
      );
      return uuids;
    },
    async seedDrop(dropId, rows, uuids) {
      await ledger.createDrop({
        id: dropId,
        file: `${dropId}.csv`,
        sha256: dropId,
        format: 'csv',
        createdAt: Date.now(),
      });
      for (let i = 0; i < rows.length; i += 1000) {
        await ledger.addRows(
          dropId,
          rows.slice(i, i + 1000).map((r, j) => ({
            row: r.rowNumber,
            state: 'identity_done',
            data: r,
            outcome: { userName: r.userName, employeeNumber: r.employeeNumber, uuid: uuids[i + j]!, action: 'create' },
            employeeNumber: r.employeeNumber,
          })),
        );
      }
      await ledger.finishIngest(dropId, rows.length, 'running');
    },
    async waitComplete(dropId, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (await ledger.isComplete(dropId)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      const view = await ledger.getDrop(dropId);
      throw new Error(`drop ${dropId} did not complete: ${JSON.stringify(view?.counts)}`);
    },
    async simJson(path, init) {
      const res = await fetch(`${sim.baseUrl}${path}`, {
        ...init,
        headers: { 'content-type': 'application/json', ...init?.headers },
      });
      return (await res.json()) as never;
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await queues.close();
      await client.close();
      await sim.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
  return harness;
}

/** A row with Spend User/Role/Approver and Travel data that the simulator accepts. */
export function extensionRow(n: number, overrides: Partial<NormalizedRow> = {}): TemplateRow {
  return {
    rowNumber: n,
    userName: `user${n}@example.com`,
    givenName: 'Test',
    familyName: `User${n}`,
    email: `user${n}@example.com`,
    employeeNumber: `E${n}`,
    spend: {
      country: 'US',
      reimbursementCurrency: 'USD',
      locale: 'en-US',
      ledgerCode: 'DEFAULT',
      customData: { custom1: `note ${n}`, custom3: 'CC200' },
      roles: ['EXP_USER'],
      reportApproverEmployeeNumber: n === 1 ? undefined : 'E1',
    },
    travel: { ruleClass: { id: 624905 }, groups: [143519480], managerEmployeeNumber: n === 1 ? undefined : 'E1' },
    ...overrides,
  } as TemplateRow;
}
