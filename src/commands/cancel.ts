import type { Command } from 'commander';
import { cancelDrop } from '../shared/guards/release.ts';
import { withCommandContext } from './context.ts';
import { printJson } from './output.ts';

export function register(program: Command): void {
  program
    .command('cancel')
    .description(
      'End a planned, held, paused or running drop: nothing more is sent and every unsettled row ends cancelled.',
    )
    .argument('<drop>', 'drop id')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dropId: string, opts: { json?: boolean }) => {
      await withCommandContext('cancel', async (ctx) => {
        const result = await cancelDrop(
          { ledger: ctx.ledger, identityQueue: ctx.queues.identity, log: ctx.log },
          dropId,
        );
        if (opts.json) printJson(result);
        else
          process.stdout.write(`drop ${dropId}: ${result.previous} → cancelled, ${result.cancelled} rows cancelled\n`);
      });
    });
}
