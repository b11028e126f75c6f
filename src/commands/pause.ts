import type { Command } from 'commander';
import { decideFromCli } from './actor.ts';
import { withCommandContext } from './context.ts';
import { printJson } from './output.ts';

export function register(program: Command): void {
  program
    .command('pause')
    .description('Pause a running drop: nothing more is sent for it until `provision resume` (or cancel).')
    .argument('<drop>', 'drop id')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dropId: string, opts: { json?: boolean }) => {
      await withCommandContext('pause', async (ctx) => {
        const { decision, ...result } = await decideFromCli(ctx, dropId, 'pause');
        const out = { dropId, previous: result.previous, status: result.status, decision };
        if (opts.json) printJson(out);
        else process.stdout.write(`drop ${dropId}: ${out.previous} → paused\n`);
      });
    });
}
