import type { DropProgress } from '../shared/ledger/progress.ts';
import { waitForDrop } from '../producers/wait-for-drop.ts';
import { NOT_PROVISIONED_STATES } from '../shared/ledger/states.ts';
import type { CommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { printJson } from './output.ts';

/** The summary `ingest --wait --json` and `status --json` print: a stable shape. */
export function summaryOf(p: DropProgress): {
  dropId: string;
  rows: number;
  status: string;
  states: Record<string, number>;
  failed: number;
  outcome?: string;
  reason?: string;
} {
  return {
    dropId: p.dropId,
    rows: p.rows ?? 0,
    status: p.status,
    states: p.states,
    failed: p.failed,
    ...(p.outcome ? { outcome: p.outcome } : {}),
    ...(p.reason ? { reason: p.reason } : {}),
  };
}

export function renderSummary(s: ReturnType<typeof summaryOf>): string {
  const parts = Object.entries(s.states)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n}`);
  const outcome = s.outcome === 'failed' ? ' (every row failed)' : s.outcome === 'partial' ? ' (some rows failed)' : '';
  return `drop ${s.dropId}: ${s.rows} rows, ${s.status}${outcome}: ${parts.join(', ') || 'no rows'}`;
}

/**
 * `--wait` (ingest, approve): waits until the drop settles or needs an operator, prints the
 * summary, and sets the exit code by outcome: 0 every row done or unchanged, 1 some rows failed or
 * were cancelled, 4 held or paused (docs/errors.md#exit-codes).
 */
export async function waitAndSummarize(ctx: CommandContext, dropId: string, json: boolean): Promise<void> {
  const progress = await waitForDrop(ctx.ledger, dropId);
  const summary = summaryOf(progress);
  if (json) printJson(summary);
  else process.stdout.write(`${renderSummary(summary)}\n`);
  if (progress.status === 'held' || progress.status === 'paused') {
    process.stderr.write(
      `drop ${dropId} is ${progress.status}: ${progress.reason ?? 'waiting for an operator'}\n  provision approve ${dropId}   # go on\n  provision cancel ${dropId}    # end it\n`,
    );
    process.exitCode = EXIT.HELD;
  } else {
    const notProvisioned = NOT_PROVISIONED_STATES.some((s) => (summary.states[s] ?? 0) > 0);
    process.exitCode = notProvisioned ? EXIT.ROWS_FAILED : EXIT.OK;
  }
}
