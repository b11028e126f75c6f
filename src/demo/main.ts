import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForDrop } from '../commands/progress.ts';
import { ingestDrop } from '../producers/ingest.ts';
import { guardsFromConfig } from '../shared/guards/limits.ts';
import { loadConfig } from '../shared/config.ts';
import { ProvError } from '../shared/errors.ts';
import { Ledger } from '../shared/ledger/ledger.ts';
import { createLogger } from '../shared/logger.ts';
import { createQueues } from '../shared/queues/index.ts';
import { createRedis, deleteKeysByPrefix } from '../shared/redis.ts';
import {
  configureSimulatorForEmployeeImport,
  employeeImportFileName,
  generateEmployeeImport,
} from './employee-import.ts';
import { generateDrop, toCsv } from './generate.ts';
import { seedEmployeeImportPeople, seedExistingPeople } from './seed.ts';
import { freePort, onPath, startChild, startCli, stopAll, waitUntil, type Child } from './processes.ts';

export interface DemoOptions {
  people: number;
  seed: number;
  /** Stop everything once the drop is complete (tests, CI). */
  exit: boolean;
  /** Print the summary as one JSON line on stdout. */
  json: boolean;
  /** Worker roles the CLI offers (a role not built yet is skipped). */
  roles: readonly string[];
  /** The generated drop: the default template (CSV) or a legacy Concur employee import. Default csv. */
  format?: 'csv' | 'employee-import';
}

export interface DemoSummary {
  dropId: string;
  rows: number;
  states: Record<string, number>;
  status: string;
  urls: { page: string; drop: string; board: string; metrics: string; simulator: string };
  credentials: { user: string; password: string };
  /** Expected from the generator, for comparison. */
  generated: { people: number; bad: number; existing: number; deactivated: number; unsupported?: number };
}

const WANTED_ROLES = ['identity', 'extension', 'status'];

async function redisAnswers(url: string): Promise<boolean> {
  const log = createLogger({ level: 'silent' });
  const redis = createRedis(url, 'producer', log);
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 1500).unref()),
    ]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

const HOW_TO_START_REDIS = `Redis does not answer at REDIS_URL and redis-server is not on the PATH. Start one, then run the demo again:
  Debian/Ubuntu:  sudo apt-get install -y redis-server && redis-server --daemonize yes
  macOS:          brew install redis && brew services start redis
  Docker:         docker run -d --name provision-redis -p 6379:6379 redis:7
or point REDIS_URL at a running Redis (redis://host:6379).`;

/**
 * `provision demo`: simulator, workers and server as child processes on free ports with a private
 * key prefix (and a private Redis when none answers), a generated drop run to completion with a
 * progress bar, then the summary and URLs. Keeps serving until Ctrl-C unless `exit`.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary | undefined> {
  const config = loadConfig();
  const work = await mkdtemp(join(tmpdir(), 'provision-demo-'));
  const children: Child[] = [];
  let privateRedis: Child | undefined;
  const out = (line: string): void => void process.stderr.write(`${line}\n`);
  let redisUrl = config.REDIS_URL;
  const prefix = `{demo-${randomBytes(4).toString('hex')}}`;
  let closeProducer: (() => Promise<void>) | undefined;

  let signalled: NodeJS.Signals | undefined;
  // A signal at any point (starting, running, serving) ends the demo and cleans up behind it.
  const stopped = new Promise<undefined>((resolve) => {
    const on = (sig: NodeJS.Signals) => () => {
      signalled = sig;
      resolve(undefined);
    };
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
  const shutdown = async (): Promise<void> => {
    // Ctrl-C in a terminal reaches the whole process group: give the children a moment to stop
    // on that signal, since a second one would force them.
    if (signalled === 'SIGINT')
      await Promise.race([
        Promise.all(children.map((c) => c.exited)),
        new Promise((r) => setTimeout(r, 3_000).unref()),
      ]);
    // Processes first (they drain into Redis), then our keys, then a private Redis last.
    await stopAll(children, config.SHUTDOWN_DEADLINE_MS);
    await closeProducer?.().catch(() => undefined);
    await deleteKeys(redisUrl, prefix).catch(() => undefined);
    if (privateRedis) await stopAll([privateRedis], config.SHUTDOWN_DEADLINE_MS);
    await rm(work, { recursive: true, force: true });
  };

  const body = async (): Promise<DemoSummary | undefined> => {
    if (!(await redisAnswers(redisUrl))) {
      if (!onPath('redis-server')) throw new ProvError('PROV_ERR_REDIS', HOW_TO_START_REDIS);
      const port = await freePort();
      out(`Redis does not answer at ${redisUrl}; starting a private redis-server on port ${port}`);
      privateRedis = startChild(
        'redis',
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--maxmemory-policy',
          'noeviction',
        ],
        process.env,
        work,
      );
      redisUrl = `redis://127.0.0.1:${port}`;
      await waitUntil('private redis', () => redisAnswers(redisUrl), 10_000, privateRedis);
    }
    const [simPort, serverPort] = [await freePort(), await freePort()];
    const password = randomBytes(9).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      CONCUR_BASE_URL: `http://127.0.0.1:${simPort}`,
      SIM_PORT: String(simPort),
      SIM_HOST: '127.0.0.1',
      PORT: String(serverPort),
      SERVER_HOST: '127.0.0.1',
      DASHBOARD_USER: 'demo',
      DASHBOARD_PASSWORD: password,
      DASHBOARD_INSECURE: 'false',
      LOG_LEVEL: 'warn',
      // A demo should finish in a minute or two: the simulator allows it.
      IDENTITY_MAX_RPS: '400',
      UPS_MAX_RPS: '50',
      EXTENSION_LINGER_MS: '300',
      STATUS_FIRST_DELAY_MS: '500',
      STATUS_MAX_DELAY_MS: '2000',
      SIM_EXTENSION_DELAY_MS: '200',
      METRICS_FLUSH_MS: '1000',
    };
    const simulator = startCli('simulator', ['simulator'], env, work);
    children.push(simulator);
    const simUrl = `http://127.0.0.1:${simPort}`;
    await waitUntil('simulator', async () => (await fetch(`${simUrl}/_sim/config`)).ok, 30_000, simulator);

    const roles = WANTED_ROLES.filter((r) => options.roles.includes(r));
    const missing = WANTED_ROLES.filter((r) => !roles.includes(r));
    if (missing.length > 0)
      out(`Note: worker roles not available in this build: ${missing.join(', ')}; rows needing them will wait.`);
    for (const role of roles) children.push(startCli(`worker-${role}`, ['worker', role], env, work));
    const server = startCli('server', ['serve'], env, work);
    children.push(server);
    const base = `http://127.0.0.1:${serverPort}`;
    await waitUntil('server', async () => (await fetch(`${base}/healthz`)).ok, 30_000, server);

    const creds = {
      clientId: config.SIM_CLIENT_ID,
      clientSecret: config.SIM_CLIENT_SECRET,
      companyId: config.SIM_COMPANY_ID,
      requestToken: config.SIM_REQUEST_TOKEN,
    };
    let file: string;
    let generated: DemoSummary['generated'];
    if (options.format === 'employee-import') {
      const drop = generateEmployeeImport({ people: options.people, seed: options.seed });
      await configureSimulatorForEmployeeImport(simUrl);
      await seedEmployeeImportPeople(simUrl, drop.existing, creds);
      file = join(work, employeeImportFileName('p0000demo', new Date()));
      await writeFile(file, drop.text);
      generated = {
        people: drop.people.length,
        bad: drop.expected.invalidLines,
        existing: drop.existing.length,
        deactivated: drop.expected.deactivated.length,
        unsupported: drop.expected.unsupportedLines,
      };
      out(
        `Generated a legacy employee import of ${drop.people.length} people (${drop.existing.length} already in Concur, ${drop.expected.deactivated.length} to deactivate, ${drop.expected.invalidLines} lines in error, ${drop.expected.unsupportedLines} unsupported records) in ${file}`,
      );
    } else {
      const drop = generateDrop({ people: options.people, seed: options.seed });
      await seedExistingPeople(simUrl, drop.existing, creds);
      file = join(work, `demo-people-${options.people}.csv`);
      await writeFile(file, toCsv(drop.records));
      generated = {
        people: drop.records.length,
        bad: drop.bad.length,
        existing: drop.existing.length,
        deactivated: drop.deactivated.length,
      };
      out(
        `Generated ${drop.records.length} people (${drop.managers.length} managers, ${drop.bad.length} bad rows, ${drop.existing.length} already in Concur, ${drop.deactivated.length} to deactivate) in ${file}`,
      );
    }

    const log = createLogger({ level: 'warn' }, process.stderr);
    const redis = createRedis(redisUrl, 'producer', log);
    const ledger = new Ledger(redis, prefix);
    const queues = createQueues(redis, prefix, log);
    closeProducer = async () => {
      await queues.close();
      await redis.quit();
    };
    const result = await ingestDrop(
      { ledger, identityQueue: queues.identity, log, guards: guardsFromConfig(config) },
      { path: file },
    );
    out(
      `Drop ${result.dropId}: ${result.rows} rows, ${result.invalid} invalid. Follow it at ${base}/#drop=${result.dropId} (user demo, password ${password})`,
    );
    const final = await waitForDrop(ledger, result.dropId, { intervalMs: 500 });

    const summary: DemoSummary = {
      dropId: result.dropId,
      rows: final.rows ?? result.rows,
      states: Object.fromEntries(Object.entries(final.states).filter(([, n]) => n > 0)),
      status: final.status,
      urls: {
        page: `${base}/`,
        drop: `${base}/#drop=${result.dropId}`,
        board: `${base}/admin/queues`,
        metrics: `${base}/metrics`,
        simulator: simUrl,
      },
      credentials: { user: 'demo', password },
      generated,
    };
    printSummary(summary, options.json);

    if (!options.exit) {
      out('Serving until Ctrl-C.');
      await stopped;
      out('Stopping the demo...');
    }
    return summary;
  };
  try {
    const running = body();
    // If a signal wins, the body's pending step fails once its processes are gone: ignore that.
    running.catch(() => undefined);
    return await Promise.race([running, stopped]);
  } finally {
    await shutdown();
  }
}

/** The demo's keys live under its own prefix; leave nothing behind in a shared Redis. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = createRedis(url, 'producer', createLogger({ level: 'silent' }));
  try {
    await deleteKeysByPrefix(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

function printSummary(s: DemoSummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(s)}\n`);
    return;
  }
  const lines = [
    '',
    `Drop ${s.dropId}: ${s.status}, ${s.rows} rows`,
    ...Object.entries(s.states).map(([state, n]) => `  ${state.padEnd(18)} ${n}`),
    '',
    `Drop page:   ${s.urls.drop}`,
    `Bull Board:  ${s.urls.board}`,
    `Metrics:     ${s.urls.metrics}`,
    `Credentials: user ${s.credentials.user}, password ${s.credentials.password}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
