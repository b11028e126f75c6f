import { createPlanLookup } from '../../producers/plan-client.ts';
import { PLAN_ACTIONS, planDrop, type PlannedRow, type PlanResult } from '../../producers/plan.ts';
import { isProvError } from '../../shared/errors.ts';
import { guardsFromConfig } from '../../shared/guards/limits.ts';
import { Ledger } from '../../shared/ledger/ledger.ts';
import type { NormalizedRow } from '../../shared/mapping/types.ts';
import { createQueues } from '../../shared/queues/index.ts';
import { fail, notChecked, pass, reasonOf, warn, type Check } from './check.ts';
import type { DoctorEnv } from './env.ts';

// `doctor --drop FILE`: the file is read, validated and planned exactly as `ingest FILE --plan`
// does (docs/safety.md#the-plan): nothing is sent to Concur; the drop is recorded as planned.

/** Rows named per problem in a detail line; the plan report (`ingest --plan --out`) has them all. */
const SHOWN = 5;

function rowList(rows: number[]): string {
  const head = rows.slice(0, SHOWN).join(', ');
  return rows.length > SHOWN ? `${head} and ${rows.length - SHOWN} more` : head;
}

export async function dropChecks(env: DoctorEnv): Promise<Check[]> {
  const file = env.options.drop;
  if (!file) return [];
  const names = ['drop.rows', 'drop.plan', 'drop.managers'];
  if (!env.redisUp) return names.map((n) => notChecked(n, 'the plan is recorded in Redis (redis.reachable)'));
  if (!env.token) return names.map((n) => notChecked(n, 'the plan reads Concur (token.grant)'));
  const { config } = env;
  const ledger = new Ledger(env.redis, config.QUEUE_PREFIX);
  const queues = createQueues(env.redis, config.QUEUE_PREFIX, env.log);
  const lookup = createPlanLookup(config, env.redis, env.log);
  try {
    const deps = {
      ledger,
      identityQueue: queues.identity,
      log: env.log,
      guards: guardsFromConfig(config),
      identity: lookup.identity,
      call: lookup.call,
      matchOn: config.MATCH_ON,
      state: lookup.state,
    };
    const options = {
      path: file,
      ...(env.options.mapping ? { mappingPath: env.options.mapping } : {}),
      ...(env.options.format ? { format: env.options.format } : {}),
      ...(env.options.encoding ? { encoding: env.options.encoding } : {}),
    };
    let result: PlanResult;
    try {
      result = await planDrop(deps, options);
    } catch (err) {
      // This file already ran: plan it again as a new drop (still nothing is sent).
      if (!isProvError(err, 'PROV_ERR_INPUT') || err.details.status === undefined) throw err;
      result = await planDrop(deps, { ...options, force: true });
    }
    return await describePlan(env, ledger, result);
  } catch (err) {
    const detail = `${reasonOf(err)}; fix the file or the options and run doctor again`;
    return [
      fail('drop.rows', detail),
      notChecked('drop.plan', 'the file was not read'),
      notChecked('drop.managers', 'the file was not read'),
    ];
  } finally {
    await lookup.close();
    await queues.close();
  }
}

async function describePlan(env: DoctorEnv, ledger: Ledger, result: PlanResult): Promise<Check[]> {
  const { dropId, plan } = result;
  const invalid: { row: number; error: string }[] = [];
  const managers: number[] = [];
  const roles = new Map<string, number[]>();
  for await (const p of ledger.iteratePlanRows<PlannedRow>(dropId)) {
    if (p.action === 'invalid' && p.error) invalid.push({ row: p.row, error: p.error });
    if (p.flags?.some((f) => f.code === 'MANAGER_NOT_FOUND')) managers.push(p.row);
  }
  for await (const r of ledger.iterateRows(dropId)) {
    for (const code of (r.data as NormalizedRow | undefined)?.spend?.roles ?? []) {
      const rows = roles.get(code) ?? [];
      rows.push(r.row);
      roles.set(code, rows);
    }
  }
  env.dropRoles = roles;

  const file = env.options.drop ?? '';
  // The commands suggested below read the file the way doctor did.
  const ingest = `provision ingest ${file}${env.options.mapping ? ` --mapping ${env.options.mapping}` : ''}`;
  const rowsLine = `${file}: ${result.rows} rows, ${invalid.length} invalid`;
  const rowsCheck =
    invalid.length === 0
      ? pass('drop.rows', `${rowsLine}`)
      : warn(
          'drop.rows',
          `${rowsLine} (${invalid
            .slice(0, 2)
            .map((i) => (i.error.length > 120 ? `${i.error.slice(0, 120)}…` : i.error))
            .join(
              '; ',
            )}${invalid.length > 2 ? '; …' : ''}): fix them in the file; \`${ingest} --plan --out plan.csv\` lists all`,
        );
  const counts = PLAN_ACTIONS.filter((a) => a !== 'invalid' && plan[a] > 0)
    .map((a) => `${a} ${plan[a]}`)
    .join(', ');
  const planLine = `drop ${dropId} planned, nothing sent: ${counts || 'nothing to do'}; will fail ${plan.willFail}${result.hold ? `; running it would hold: ${result.hold}` : ''}`;
  const planCheck =
    plan.willFail > 0
      ? fail('drop.plan', `${planLine}: see why with \`${ingest} --plan\``)
      : result.hold
        ? warn('drop.plan', `${planLine}: approve it on purpose (\`provision approve ${dropId}\`) or fix the file`)
        : result.notes
          ? warn('drop.plan', `${planLine}; ${result.notes.join('; ')}`)
          : pass('drop.plan', `${planLine}; \`provision approve ${dropId}\` runs it`);
  const managerCheck =
    managers.length === 0
      ? pass('drop.managers', 'every manager is in Concur or in the drop')
      : warn(
          'drop.managers',
          `${managers.length} rows name a manager found neither in Concur nor in the drop (rows ${rowList(managers)}): they are written without one; add the managers or fix the numbers`,
        );
  return [rowsCheck, planCheck, managerCheck];
}

/** Rows per unknown code, for spend.role-codes. */
export function unknownRoleUse(roles: Map<string, number[]>, known: ReadonlySet<string>): string[] {
  return [...roles].filter(([code]) => !known.has(code)).map(([code, rows]) => `${code} (rows ${rowList(rows)})`);
}
