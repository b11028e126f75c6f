import type { Command } from 'commander';
import { decide } from '../shared/guards/decide.ts';
import { guardsFromConfig } from '../shared/guards/limits.ts';
import { cliActor } from './actor.ts';
import { withCommandContext } from './context.ts';

export function register(program: Command): void {
  program
    .command('pause')
    .description('Pause a running drop: nothing more is sent for it until `provision resume` (or cancel).')
    .argument('<drop>', 'drop id')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dropId: string, opts: { json?: boolean }) => {
      await withCommandContext('pause', async (ctx) => {
        const { decision, ...result } = await decide(
          {
            ledger: ctx.ledger,
            identityQueue: ctx.queues.identity,
            log: ctx.log,
            guards: guardsFromConfig(ctx.config),
          },
          dropId,
          'pause',
          cliActor(),
        );
        const out = { dropId, previous: result.previous, status: result.status, decision };
        if (opts.json) process.stdout.write(`${JSON.stringify(out)}\n`);
        else process.stdout.write(`drop ${dropId}: ${out.previous} → paused\n`);
      });
    });
}
