// Calls per row: Identity calls per new, changed and unchanged user (and per user of an org tree
// whose managers come later in the file), Bulk calls per row, and status calls per provision with
// polling and with provisionCompleted webhooks.
// Usage: npx tsx bench/calls.ts [--quick] [--rows N]   (prints one JSON line)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWebhookApp, WEBHOOK_PATH } from '../src/server/webhook.ts';
import { ConcurHttp } from '../src/shared/concur/http.ts';
import { subscribeWebhook } from '../src/shared/concur/events.ts';
import { SIM_DEFAULTS } from '../src/shared/config.ts';
import { createLogger } from '../src/shared/logger.ts';
import { ProvisionStore } from '../src/shared/provisions/store.ts';
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { benchDrop, withTitle, writeDrop } from './lib/drops.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { runDrop, timeDrop, type DropRun } from './lib/run-drop.ts';
import { countCalls, isIdentityRoute, isRoute, ROUTES, type SimStatsSnapshot } from './lib/sim.ts';
import { startBenchStack } from './lib/stack.ts';

const args = parseBenchArgs(process.argv.slice(2));
const people = args.rows ?? (args.quick ? 300 : 2_000);
// Concur takes a while to process extensions; polling starts early and backs off (quick: all
// delays halved, same number of checks).
const k = args.quick ? 0.5 : 1;
const ms = (n: number): string => String(n * k);
const common = {
  IDENTITY_MAX_RPS: '0',
  UPS_MAX_RPS: '0',
  SIM_EXTENSION_DELAY_MS: ms(2000),
  EXTENSION_LINGER_MS: '200',
};
const pollingEnv = { ...common, STATUS_FIRST_DELAY_MS: ms(500), STATUS_MAX_DELAY_MS: ms(2000) };
// With webhooks, polling is only the fallback: the first check is a minute out unless an event promotes it.
const webhookEnv = { ...common, STATUS_FIRST_DELAY_MS: '60000', STATUS_MAX_DELAY_MS: '60000' };

interface CallBreakdown {
  rows: number;
  states: Record<string, number>;
  seconds: number;
  search: number;
  create: number;
  patch: number;
  identity: number;
  identityPerRow: number;
  bulk: number;
  bulkPerRow: number;
  status: number;
  statusPerProvision: number;
}

function breakdown(run: DropRun, validRows: number): CallBreakdown {
  const c: SimStatsSnapshot = run.calls;
  const identity = countCalls(c, isIdentityRoute);
  const bulk = countCalls(c, isRoute(ROUTES.bulk));
  const accepted = bulk - countCalls(c, isRoute(ROUTES.bulk), 429);
  const status = countCalls(c, isRoute(ROUTES.status));
  return {
    rows: validRows,
    states: run.states,
    seconds: run.seconds,
    search: countCalls(c, isRoute(ROUTES.identitySearch)),
    create: countCalls(c, isRoute(ROUTES.identityCreate)),
    patch: countCalls(c, isRoute(ROUTES.identityPatch)),
    identity,
    identityPerRow: round(identity / Math.max(validRows, 1), 3),
    bulk,
    bulkPerRow: round(bulk / Math.max(validRows, 1), 4),
    status,
    statusPerProvision: round(status / Math.max(accepted, 1), 2),
  };
}

const redis = await startBenchRedis();
const dir = await mkdtemp(join(tmpdir(), 'provision-bench-calls-'));
const log = createLogger({ level: 'silent' });
try {
  const polling = await startBenchStack({ redisUrl: redis.url, env: pollingEnv });
  let newUsers: CallBreakdown, unchanged: CallBreakdown, changed: CallBreakdown, orgTree: CallBreakdown;
  try {
    const flat = benchDrop(people, 'flat', 1, 1);
    const file = join(dir, 'flat.csv');
    await writeDrop(file, flat.records);
    note(`calls: ${people} new people (flat), status by polling`);
    newUsers = breakdown(await timeDrop(polling, file), people);
    note('calls: the same file again (everyone unchanged)');
    unchanged = breakdown(await timeDrop(polling, file, undefined, true), people);
    note('calls: everyone with a new title (one field changed)');
    const changedFile = join(dir, 'changed.csv');
    await writeDrop(
      changedFile,
      flat.records.map((r) => withTitle(r, `Senior ${r.title}`)),
    );
    changed = breakdown(await timeDrop(polling, changedFile), people);
    note(`calls: ${people} people of an org tree (managers often later in the file)`);
    const tree = await runDrop(polling, people, 'demo', { seed: 2, tag: 2 });
    orgTree = breakdown(tree, people - (tree.states.invalid ?? 0));
  } finally {
    await polling.stop();
  }

  note(`calls: ${people} new people, status by webhooks`);
  const hooked = await startBenchStack({ redisUrl: redis.url, env: webhookEnv });
  let webhook: CallBreakdown;
  const http = new ConcurHttp();
  const app = await buildWebhookApp({
    store: new ProvisionStore(hooked.redis, hooked.prefix),
    statusQueue: hooked.queues.status,
    publicKeyPem: await hooked.sim.publicKey(),
    log,
  });
  try {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    await subscribeWebhook(
      { http, baseUrl: hooked.sim.url, clientId: SIM_DEFAULTS.clientId, clientSecret: SIM_DEFAULTS.clientSecret },
      { id: 'provisioning.bench.webhook', endpoint: `${url}${WEBHOOK_PATH}` },
    );
    const flat = benchDrop(people, 'flat', 3, 3);
    const file = join(dir, 'webhook.csv');
    await writeDrop(file, flat.records);
    webhook = breakdown(await timeDrop(hooked, file), people);
  } finally {
    await app.close();
    await http.close();
    await hooked.stop();
  }

  const result = {
    bench: 'calls',
    people,
    identityPerNewUser: newUsers.identityPerRow,
    identityPerChangedUser: changed.identityPerRow,
    identityWritesForUnchanged: unchanged.create + unchanged.patch,
    identityPerOrgTreeUser: orgTree.identityPerRow,
    bulkPerRow: newUsers.bulkPerRow,
    statusPerProvisionPolling: newUsers.statusPerProvision,
    statusPerProvisionWebhook: webhook.statusPerProvision,
    runs: { newUsers, unchanged, changed, orgTree, webhook },
    target: {
      identityPerNewUserAtMost: 1.05,
      identityPerChangedUserAtMost: 1.1,
      writesForUnchanged: 0,
      bulkPerRowAtMost: 0.011,
      statusPerProvisionWebhookAtMost: 1.5,
      met:
        newUsers.identityPerRow <= 1.05 &&
        changed.identityPerRow <= 1.1 &&
        unchanged.create + unchanged.patch === 0 &&
        newUsers.bulkPerRow <= 0.011 &&
        webhook.statusPerProvision <= 1.5,
    },
    settings: {
      pollingEnv,
      webhookEnv,
      webhook: 'in-process buildWebhookApp (src/server/webhook.ts), subscribed through ESS',
    },
    redis: redis.version,
  };
  note(
    `calls: new ${result.identityPerNewUser}, changed ${result.identityPerChangedUser}, unchanged writes ${result.identityWritesForUnchanged}, bulk/row ${result.bulkPerRow}, status/provision ${result.statusPerProvisionPolling} polling, ${result.statusPerProvisionWebhook} webhook`,
  );
  emit(result);
} finally {
  await rm(dir, { recursive: true, force: true });
  await redis.stop();
}
