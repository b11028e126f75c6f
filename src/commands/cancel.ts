import type { Command } from 'commander';
import { decideFromCli } from './actor.ts';
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
        const { decision, ...result } = await decideFromCli(ctx, dropId, 'cancel');
        const out = { dropId, previous: result.previous, status: 'cancelled', cancelled: result.rows ?? 0, decision };
        if (opts.json) printJson(out);
        else process.stdout.write(`drop ${dropId}: ${out.previous} → cancelled, ${out.cancelled} rows cancelled\n`);
      });
    });
}
