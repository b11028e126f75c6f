import type { Command } from 'commander';
import { DEFAULT_REPLAY_STATES, replayDrop } from '../producers/replay.ts';
import { ROW_STATES, type RowState } from '../shared/ledger/states.ts';
import { requireDrop, withCommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { printError, printJson } from './output.ts';

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
        printError(
          'PROV_ERR_USAGE',
          `unknown row state(s): ${unknown.join(', ')}; states are ${ROW_STATES.join(', ')}`,
        );
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
        // Invalid rows keep only their reason, never a record: replay finds them and says what to do.
        const skipped = Object.entries(result.skipped).filter(([, n]) => n > 0);
        const skippedText = skipped.map(([state, n]) => `${n} ${state}`).join(', ');
        const advice =
          skipped.length > 0
            ? `drop ${dropId} has ${skippedText} row(s) with no record to replay (rows that failed validation keep only their reason): fix them in the file and ingest it again; provision report ${dropId} --states ${skipped.map(([s]) => s).join(',')} lists them`
            : undefined;
        if (opts.json && (result.dropId || !advice)) printJson(result);
        else if (result.dropId) process.stdout.write(`${result.dropId}\n`);
        if (advice && result.dropId) process.stderr.write(`${advice}\n`);
        if (advice && !result.dropId) {
          printError('PROV_ERR_INPUT', advice);
          process.exitCode = EXIT.ERROR;
        } else if (!result.dropId)
          process.stderr.write(`drop ${dropId} has no rows in ${states.join(', ')}: nothing to replay\n`);
      });
    });
}
