import type { Command } from 'commander';
import { decideFromCli } from './actor.ts';
import { withCommandContext } from './context.ts';
import { printJson } from './output.ts';
import { waitAndSummarize } from './summary.ts';

export function register(program: Command): void {
  program
    .command('approve')
    .alias('resume')
    .description(
      'Run a planned, held (deactivation threshold) or paused (failure brake) drop: its open rows are enqueued again.',
    )
    .argument('<drop>', 'drop id')
    .option('--json', 'print one JSON object on stdout')
    .option(
      '--wait',
      'then wait until every row is settled (or the drop stops again), showing progress; exit code by outcome',
    )
    .action(async (dropId: string, opts: { json?: boolean; wait?: boolean }) => {
      await withCommandContext('approve', async (ctx) => {
        const { decision, ...result } = await decideFromCli(ctx, dropId, 'approve');
        const out = { dropId, previous: result.previous, status: result.status, rows: result.rows ?? 0, decision };
        if (opts.wait) {
          // One JSON document on stdout: the summary; the approval itself goes to stderr.
          process.stderr.write(`drop ${dropId}: ${out.previous} → ${out.status}, ${out.rows} rows enqueued\n`);
          await waitAndSummarize(ctx, dropId, opts.json === true);
        } else if (opts.json) printJson(out);
        else process.stdout.write(`drop ${dropId}: ${out.previous} → ${out.status}, ${out.rows} rows enqueued\n`);
      });
    });
}
