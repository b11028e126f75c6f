import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { IngestDeps, IngestOptions } from '../producers/ingest.ts';
import { createPlanLookup } from '../producers/plan-client.ts';
import { describeChange, planReportRecords } from '../producers/plan-report.ts';
import { PLAN_ACTIONS, planDrop, type PlannedRow, type PlanResult } from '../producers/plan.ts';
import { isProvError } from '../shared/errors.ts';
import { flagsFail } from '../shared/preflight/flags.ts';
import { jsonText, terminalText } from '../shared/safe-text.ts';
import { renderReport } from '../shared/ledger/report.ts';
import type { CommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { printError } from './output.ts';

/** Human output lists at most this many rows; the JSON and the report file list them all. */
const MAX_TEXT_ROWS = 1000;

/**
 * `ingest FILE --plan`: plans the drop and prints it. With `--json` one object on stdout,
 * `{"dropId", "rows", "plan": {counts, willFail}, "status", "hold"?, "notes"?, "rowsDetail": [...]}`, streamed from the
 * ledger so a large drop never sits in memory.
 */
export async function runPlan(
  ctx: CommandContext,
  deps: IngestDeps,
  options: IngestOptions,
  flags: { json: boolean; out?: string; planned?: (rows: number) => void },
): Promise<void> {
  const lookup = createPlanLookup(ctx.config, ctx.redis, ctx.log);
  try {
    const result = await planDrop(
      { ...deps, identity: lookup.identity, call: lookup.call, matchOn: ctx.config.MATCH_ON, state: lookup.state },
      options,
    );
    flags.planned?.(result.rows);
    if (flags.out) await writePlanReport(ctx, result.dropId, flags.out);
    if (flags.json) await writeJson(ctx, result);
    else await writeText(ctx, result, options.path);
    process.exitCode = EXIT.OK;
  } catch (err) {
    if (!isProvError(err)) throw err;
    printError(err.code, err.message);
    process.exitCode = EXIT.ERROR;
  } finally {
    await lookup.close();
  }
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

async function writeJson(ctx: CommandContext, result: PlanResult): Promise<void> {
  const head = {
    dropId: result.dropId,
    rows: result.rows,
    plan: result.plan,
    status: result.status,
    ...(result.hold ? { hold: result.hold } : {}),
    ...(result.notes ? { notes: result.notes } : {}),
  };
  await write(`${JSON.stringify(head).slice(0, -1)},"rowsDetail":[`);
  let first = true;
  for await (const p of ctx.ledger.iteratePlanRows<PlannedRow>(result.dropId)) {
    await write(`${first ? '' : ','}${jsonText(JSON.stringify(p))}`);
    first = false;
  }
  await write(']}\n');
}

async function writeText(ctx: CommandContext, result: PlanResult, path: string): Promise<void> {
  const counts = PLAN_ACTIONS.map((a) => `${a} ${result.plan[a]}`).join(', ');
  await write(`plan for drop ${result.dropId}: ${result.rows} rows: ${counts}, will fail ${result.plan.willFail}\n`);
  let shown = 0;
  let hidden = 0;
  for await (const p of ctx.ledger.iteratePlanRows<PlannedRow>(result.dropId)) {
    if (p.action === 'unchanged' && !p.extensions && !p.warnings && !p.flags) continue;
    if (shown >= MAX_TEXT_ROWS) {
      hidden += 1;
      continue;
    }
    shown += 1;
    const detail = [
      p.action === 'conflict' ? undefined : p.error,
      ...(p.changes ?? []).map(describeChange),
      p.extensions ? `extensions: ${p.extensions.join(', ')}` : undefined,
      ...(p.warnings ?? []),
    ]
      .filter(Boolean)
      .join('; ');
    const fails = flagsFail(p.flags) ? ' WILL FAIL' : '';
    // Old values come from Concur, new ones from the file: either may hold anything.
    await write(
      terminalText(
        `  row ${String(p.row).padEnd(7)} ${p.action.padEnd(10)} ${p.userName ?? ''}${fails}${detail ? `  ${detail}` : ''}\n`,
      ),
    );
    for (const f of p.flags ?? [])
      await write(terminalText(`      ${f.severity === 'fail' ? 'will fail' : 'note'} ${f.code}: ${f.message}\n`));
  }
  if (hidden > 0) await write(`  … ${hidden} more rows (use --json or --out FILE for all of them)\n`);
  for (const note of result.notes ?? []) await write(terminalText(`not checked: ${note}\n`));
  if (result.hold) await write(`running it would hold the drop: ${result.hold}\n`);
  if (result.status === 'planned')
    await write(`nothing was sent. Run it with: provision approve ${result.dropId}   (or: provision ingest ${path})\n`);
}

/** The plan report with the run report's columns: CSV, or JSON lines for a `.jsonl` file. */
async function writePlanReport(ctx: CommandContext, dropId: string, out: string): Promise<void> {
  const stream = createWriteStream(out);
  for await (const chunk of renderReport(
    planReportRecords(ctx.ledger, dropId),
    out.endsWith('.jsonl') ? 'jsonl' : 'csv',
  )) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await finished(stream);
}
