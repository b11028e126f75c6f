import type { Command } from 'commander';
import { approveDrop } from '../shared/guards/release.ts';
import { withCommandContext } from './context.ts';

export function register(program: Command): void {
  program
    .command('approve')
    .alias('resume')
    .description(
      'Run a planned, held (deactivation threshold) or paused (failure brake) drop: its open rows are enqueued again.',
    )
    .argument('<drop>', 'drop id')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dropId: string, opts: { json?: boolean }) => {
      await withCommandContext('approve', async (ctx) => {
        const result = await approveDrop(
          { ledger: ctx.ledger, identityQueue: ctx.queues.identity, log: ctx.log },
          dropId,
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else
          process.stdout.write(`drop ${dropId}: ${result.previous} → ${result.status}, ${result.rows} rows enqueued\n`);
      });
    });
}
