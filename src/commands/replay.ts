import type { Command } from 'commander';
import { DEFAULT_REPLAY_STATES, replayDrop } from '../producers/replay.ts';
import { ROW_STATES, type RowState } from '../shared/ledger/states.ts';
import { requireDrop, withCommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';

export function register(program: Command): void {
  program
    .command('replay')
    .description('Make a new drop from the failed rows of a drop (their original data), linked to it, and run it.')
    .argument('<drop>', 'the drop whose failures to replay')
    .option('--states <list>', `row states to replay (default ${DEFAULT_REPLAY_STATES.join(',')})`)
    .option('--json', 'print one JSON object on stdout')
    .action(async (dropId: string, opts: { states?: string; json?: boolean }) => {
      const states = opts.states
        ? opts.states
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [...DEFAULT_REPLAY_STATES];
      const unknown = states.filter((s) => !(ROW_STATES as readonly string[]).includes(s));
      if (unknown.length > 0) {
        process.stderr.write(`unknown row state(s): ${unknown.join(', ')}; states are ${ROW_STATES.join(', ')}\n`);
        process.exitCode = EXIT.USAGE;
        return;
      }
      await withCommandContext('replay', async (ctx) => {
        await requireDrop(ctx, dropId);
        const result = await replayDrop({
          ledger: ctx.ledger,
          queues: ctx.queues,
          dropId,
          states: states as RowState[],
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else if (result.dropId) process.stdout.write(`${result.dropId}\n`);
        else process.stderr.write(`drop ${dropId} has no rows in ${states.join(', ')}: nothing to replay\n`);
      });
    });
}
