import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPath, runCli, waitUntil } from '../../src/demo/processes.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { ACTIVE_STATES } from '../../src/shared/ledger/states.ts';
import { PIPELINE_QUEUE_NAMES, queueKeyPrefix } from '../../src/shared/keys.ts';
import { createRedis } from '../../src/shared/redis.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { startPrivateRedisCluster, type PrivateRedisCluster } from '../helpers/redis-server.ts';
import { ENT } from '../helpers/sim-data.ts';
import { STACK_AUTH, startStack, type Stack } from '../helpers/stack.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const TRAVEL = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';
const PEOPLE = 60;

type StateUser = Record<string, unknown> & {
  id: string;
  userName: string;
  [ENT]: { employeeNumber: string; manager?: { value: string } };
};

/** Master port per slot range, from CLUSTER SLOTS. */
async function slotOwners(node: Redis): Promise<(slot: number) => number> {
  const ranges = (await node.call('CLUSTER', 'SLOTS')) as [
    number,
    number,
    [string, number, ...unknown[]],
    ...unknown[],
  ][];
  return (slot) => {
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`slot ${slot} has no master`);
    return Number(range[2][1]);
  };
}

/**
 * A private prefix whose three queue tags hash to slots of three different masters, so the test
 * shows the queues spread (with one tag each and three masters, about 2 prefixes in 9 do).
 */
async function spreadPrefix(node: Redis): Promise<{ prefix: string; masterOf: Record<string, number> }> {
  const owner = await slotOwners(node);
  for (let i = 0; i < 200; i += 1) {
    const prefix = `{test-cluster-${randomBytes(4).toString('hex')}}`;
    const masterOf: Record<string, number> = {};
    for (const tag of [prefix, ...PIPELINE_QUEUE_NAMES.map((q) => queueKeyPrefix(prefix, q))]) {
      masterOf[tag] = owner(Number(await node.call('CLUSTER', 'KEYSLOT', tag)));
    }
    if (
      new Set(PIPELINE_QUEUE_NAMES.map((q) => masterOf[queueKeyPrefix(prefix, q)])).size === PIPELINE_QUEUE_NAMES.length
    )
      return { prefix, masterOf };
  }
  throw new Error('no prefix among 200 puts the three queues on three masters');
}

/** The keys under `keyPrefix` that one master holds (SCAN on that node only). */
async function keysOn(node: Redis, keyPrefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await node.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...page);
  } while (cursor !== '0');
  return keys;
}

describe.skipIf(!onPath('redis-server') || !onPath('redis-cli'))(
  'a drop on a 3-master Redis Cluster (e2e, real processes)',
  () => {
    let cluster: PrivateRedisCluster | undefined;
    let stack: Stack | undefined;
    let redis: Cluster | undefined;

    beforeAll(async () => {
      cluster = await startPrivateRedisCluster({ masters: 3 });
    });

    afterAll(async () => {
      await stack?.stop();
      redis?.disconnect();
      await cluster?.stop();
    });

    it(
      'runs every worker role, the server and the simulator through the cluster; the queues live on different masters',
      { timeout: 90_000 },
      async () => {
        const seed = new Redis(cluster!.ports[0]!, '127.0.0.1');
        const { prefix, masterOf } = await spreadPrefix(seed).finally(() => seed.disconnect());

        stack = await startStack({
          server: true,
          prefix,
          env: { REDIS_URL: cluster!.url, LEDGER_COMPACT_INTERVAL_MS: '500' },
        });
        const rows = [];
        // Rows 1..30 name rows 31..60 (later in the file) as manager and travel manager: rows wait on
        // other rows (ledger waiter sets) across the identity and extension queues.
        const spend = {
          'spend.country': 'US',
          'spend.reimbursementCurrency': 'USD',
          'spend.locale': 'en-US',
          'spend.roles': 'EXP_USER',
        };
        for (let n = 1; n <= PEOPLE / 2; n++)
          rows.push(
            person(n, {
              managerEmployeeNumber: `E${n + PEOPLE / 2}`,
              ...spend,
              'travel.ruleClass': 'Standard',
              'travel.managerEmployeeNumber': `E${n + PEOPLE / 2}`,
            }),
          );
        for (let n = PEOPLE / 2 + 1; n <= PEOPLE; n++)
          rows.push(person(n, { ...spend, 'travel.ruleClass': 'Standard' }));
        const path = writeCsvDrop(rows);

        const ingest = await runCli(['ingest', path, '--wait', '--json'], stack.env);
        const summary = JSON.parse(ingest.stdout.trim() || '{}') as {
          dropId: string;
          rows: number;
          status: string;
          states: Record<string, number>;
        };
        expect(summary, ingest.stderr + (await stack.logs())).toMatchObject({
          rows: PEOPLE,
          status: 'complete',
          states: { done: PEOPLE },
        });
        expect(ingest.code).toBe(0);

        // The ledger, read through the cluster: every row terminal, nothing left in flight.
        redis = createRedis(cluster!.url, 'producer') as Cluster;
        const view = (await new Ledger(redis, prefix).getDrop(summary.dropId))!;
        expect(view.terminal).toBe(PEOPLE);
        expect(view.counts.done).toBe(PEOPLE);
        for (const s of ACTIVE_STATES) expect(view.counts[s] ?? 0, s).toBe(0);

        // Concur holds exactly one user per person, with the manager and both extensions.
        const users = ((await (await fetch(`${stack.simUrl}/_sim/state`)).json()) as { users: StateUser[] }).users;
        expect(users.map((u) => u.userName).sort()).toEqual(rows.map((r) => r.userName!).sort());
        const byEmp = new Map(users.map((u) => [u[ENT].employeeNumber, u]));
        for (let n = 1; n <= PEOPLE; n++) {
          const u = byEmp.get(`E${n}`)!;
          expect(u[SPEND], `E${n}`).toMatchObject({ country: 'US', reimbursementCurrency: 'USD' });
          expect(u[TRAVEL], `E${n}`).toMatchObject({ ruleClass: { name: 'Standard' } });
          if (n <= PEOPLE / 2) expect(u[ENT].manager?.value).toBe(byEmp.get(`E${n + PEOPLE / 2}`)!.id);
        }

        // Where the keys are: each queue's keys on the one master that owns its tag's slot, the three
        // queues on three masters; the ledger under the plain prefix on its own slot's master.
        const masters = redis.nodes('master');
        expect(masters).toHaveLength(3);
        const holders = async (keyPrefix: string): Promise<number[]> => {
          const found = await Promise.all(
            masters.map(async (m) => ({ port: Number(m.options.port), n: (await keysOn(m, keyPrefix)).length })),
          );
          return found.filter((f) => f.n > 0).map((f) => f.port);
        };
        const queueMasters: number[] = [];
        for (const queue of PIPELINE_QUEUE_NAMES) {
          const tag = queueKeyPrefix(prefix, queue);
          expect(await holders(tag), `${queue} keys (${tag})`).toEqual([masterOf[tag]]);
          queueMasters.push(masterOf[tag]!);
        }
        expect(new Set(queueMasters).size).toBe(3);
        // The default prefix spreads too: this cluster is split evenly, as `--cluster create` does.
        const owner = await slotOwners(masters[0]!);
        const defaultMasters = await Promise.all(
          PIPELINE_QUEUE_NAMES.map(async (q) =>
            owner(Number(await masters[0]!.call('CLUSTER', 'KEYSLOT', queueKeyPrefix('{prov}', q)))),
          ),
        );
        expect(new Set(defaultMasters).size, `{prov} queues on ${defaultMasters.join(', ')}`).toBe(3);
        expect(await holders(`${prefix}:ledger:`), 'ledger keys').toEqual([masterOf[prefix]]);

        // The server reads queue depths and the workers' call metrics through the cluster, and Bull
        // Board lists the three queues under their names.
        const auth = `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`;
        const board = (await (
          await fetch(`${stack.serverUrl}/admin/queues/api/queues`, { headers: { authorization: auth } })
        ).json()) as { queues: { name: string }[] };
        expect(board.queues.map((q) => q.name).sort()).toEqual(['extension', 'identity', 'status']);
        let metrics = '';
        for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
          metrics = await (await fetch(`${stack.serverUrl}/metrics`, { headers: { authorization: auth } })).text();
          if (/provision_concur_calls_total\{endpoint="\/profile\/v4\/Bulk"/.test(metrics)) break;
        }
        expect(metrics).toContain(`provision_rows{state="done"} ${PEOPLE}`);
        for (const queue of PIPELINE_QUEUE_NAMES)
          expect(metrics).toContain(`provision_queue_jobs{queue="${queue}",state="active"} 0`);
        expect(metrics).toMatch(
          /provision_concur_calls_total\{endpoint="\/profile\/v4\/Bulk",method="POST",status="2\d\d"\} [1-9]/,
        );

        // The identity worker compacts the finished drop through the cluster (MULTI on the drop's slot);
        // the report reads the pages; prune then deletes every key of it.
        const ledger = new Ledger(redis, prefix);
        await waitUntil(
          'the drop compacted',
          async () => (await ledger.getDrop(summary.dropId))?.meta.compactedAt !== undefined,
          20_000,
        );
        const report = await runCli(['report', summary.dropId, '--format', 'jsonl'], stack.env);
        const lines = report.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { state: string; uuid: string });
        expect(lines.filter((l) => l.state === 'done' && l.uuid !== '')).toHaveLength(PEOPLE);
        const pruned = await runCli(['prune', summary.dropId], stack.env);
        expect(pruned.code, pruned.stderr).toBe(0);
        expect(await holders(`${prefix}:ledger:drop:`), 'drop keys after prune').toEqual([]);
      },
    );
  },
);
