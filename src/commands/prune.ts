import type { Command } from 'commander';
import { ProvError } from '../shared/errors.ts';
import { refuseUnfinished } from '../shared/ledger/ledger.ts';
import { FINISHED_STATUSES } from '../shared/ledger/states.ts';
import type { CommandContext } from './context.ts';
import { withCommandContext } from './context.ts';
import { printJson } from './output.ts';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30d`, `12h`, `90m`, `45s` as milliseconds; PROV_ERR_INPUT otherwise. */
export function parseAge(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m)
    throw new ProvError('PROV_ERR_INPUT', `--older-than '${text}': expected a number and a unit, e.g. 30d, 12h, 90m`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export interface PrunedDrop {
  dropId: string;
  status: string;
  rows: number;
  completedAt: number | undefined;
}

/** Finished drops (complete, cancelled, rejected) that finished before `cutoff`, newest first. */
async function finishedBefore(ctx: CommandContext, cutoff: number): Promise<PrunedDrop[]> {
  const found: PrunedDrop[] = [];
  for (const dropId of await ctx.ledger.listDrops(Number.MAX_SAFE_INTEGER)) {
    const view = await ctx.ledger.getDrop(dropId);
    // Cancelling and rejecting set completedAt too.
    if (!view || !FINISHED_STATUSES.has(view.meta.status)) continue;
    const finishedAt = view.meta.completedAt;
    if (finishedAt === undefined || finishedAt >= cutoff) continue;
    found.push({ dropId, status: view.meta.status, rows: view.meta.rows ?? 0, completedAt: finishedAt });
  }
  return found;
}

export function register(program: Command): void {
  program
    .command('prune')
    .description(
      'Delete finished drops from the ledger (their rows, reports and history): the ones named, or every one finished longer ago than --older-than. Drops in progress are never touched.',
    )
    .argument('[drops...]', 'drop ids')
    .option(
      '--older-than <age>',
      'every complete, cancelled or rejected drop finished before this long ago (30d, 12h, 90m)',
    )
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dropIds: string[], opts: { olderThan?: string; dryRun?: boolean; json?: boolean }) => {
      await withCommandContext('prune', async (ctx) => {
        if (dropIds.length === 0 && opts.olderThan === undefined)
          throw new ProvError(
            'PROV_ERR_INPUT',
            'name the drops to delete or pass --older-than (e.g. --older-than 30d)',
          );
        const targets: PrunedDrop[] = [];
        for (const dropId of dropIds) {
          const view = await ctx.ledger.getDrop(dropId);
          if (!view) throw new ProvError('PROV_ERR_LEDGER', `unknown drop ${dropId}`);
          // Checked for every named drop before any is deleted: all or nothing.
          refuseUnfinished(dropId, view.meta.status);
          targets.push({
            dropId,
            status: view.meta.status,
            rows: view.meta.rows ?? 0,
            completedAt: view.meta.completedAt,
          });
        }
        if (opts.olderThan !== undefined)
          targets.push(...(await finishedBefore(ctx, Date.now() - parseAge(opts.olderThan))));
        const pruned: PrunedDrop[] = [];
        for (const t of targets) {
          if (!opts.dryRun) await ctx.ledger.deleteDrop(t.dropId);
          pruned.push(t);
        }
        if (opts.json) {
          printJson({ dryRun: opts.dryRun === true, pruned });
          return;
        }
        const verb = opts.dryRun ? 'would delete' : 'deleted';
        for (const t of pruned) process.stdout.write(`${verb} drop ${t.dropId} (${t.status}, ${t.rows} rows)\n`);
        process.stdout.write(`${pruned.length} drop(s) ${opts.dryRun ? 'to delete' : 'deleted'}\n`);
      });
    });
}
