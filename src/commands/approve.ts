import type { Command } from 'commander';
import { decide } from '../shared/guards/decide.ts';
import { guardsFromConfig } from '../shared/guards/limits.ts';
import { cliActor } from './actor.ts';
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
        const { decision, ...result } = await decide(
          {
            ledger: ctx.ledger,
            identityQueue: ctx.queues.identity,
            log: ctx.log,
            guards: guardsFromConfig(ctx.config),
          },
          dropId,
          'approve',
          cliActor(),
        );
        const out = { dropId, previous: result.previous, status: result.status, rows: result.rows ?? 0, decision };
        if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
        else process.stdout.write(`drop ${dropId}: ${out.previous} → ${out.status}, ${out.rows} rows enqueued\n`);
      });
    });
}
