import type { Command } from 'commander';
import { isProvError } from '../shared/errors.ts';
import { approveDrop } from '../shared/guards/release.ts';
import { openCommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';

export function register(program: Command): void {
  program
    .command('approve')
    .alias('resume')
    .description('Run a planned, held (deactivation threshold) or paused (failure brake) drop: its open rows are enqueued again.')
    .argument('<drop>', 'drop id')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dropId: string, opts: { json?: boolean }) => {
      const ctx = openCommandContext('approve');
      try {
        const result = await approveDrop({ ledger: ctx.ledger, identityQueue: ctx.queues.identity, log: ctx.log }, dropId);
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else process.stdout.write(`drop ${dropId}: ${result.previous} → ${result.status}, ${result.rows} rows enqueued\n`);
      } catch (err) {
        if (!isProvError(err, 'PROV_ERR_LEDGER')) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = EXIT.ERROR;
      } finally {
        await ctx.close();
      }
    });
}
