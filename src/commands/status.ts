import type { Command } from 'commander';
import { readTokenRefusal } from '../shared/concur/token-cache.ts';
import { dropProgress } from '../shared/ledger/progress.ts';
import { lostDrop, type LostDrop } from '../shared/ledger/lost.ts';
import { isDropId } from '../shared/keys.ts';
import { checkRedisDurability } from '../shared/redis-durability.ts';
import { EXIT } from './exit-codes.ts';
import { readRateLimits } from '../shared/rate/index.ts';
import { jsonText, terminalText } from '../shared/safe-text.ts';
import { rateLines } from './rate-lines.ts';
import { requireDrop, withCommandContext } from './context.ts';
import { summaryOf } from './summary.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'Show a drop (counts per state, rate, ETA), or the recent drops without an id; both with the Concur call rates in force.',
    )
    .argument('[drop]', 'drop id')
    .option('--json', 'print JSON on stdout')
    .option('--limit <n>', 'recent drops to list', '20')
    .action(async (dropId: string | undefined, opts: { json?: boolean; limit: string }) => {
      await withCommandContext('status', async (ctx) => {
        const rateLimits = await readRateLimits(ctx.redis, ctx.config.QUEUE_PREFIX);
        if (dropId === undefined) {
          const ids = await ctx.ledger.listDrops(Number(opts.limit) || 20);
          const drops = [];
          // Listed but without their keys: Redis lost them; said, never skipped.
          const lost: LostDrop[] = [];
          for (const id of ids) {
            const view = await ctx.ledger.getDrop(id);
            if (view) drops.push(dropProgress(view));
            else lost.push(await lostDrop(ctx.ledger, id));
          }
          if (opts.json)
            process.stdout.write(
              `${jsonText(JSON.stringify({ drops, ...(lost.length > 0 ? { lost } : {}), rateLimits }))}\n`,
            );
          else {
            for (const d of drops)
              process.stdout.write(
                terminalText(
                  `${d.dropId}  ${d.status.padEnd(10)} ${String(d.settled).padStart(8)}/${d.rows ?? '?'}  ${d.file}\n`,
                ),
              );
            for (const d of lost) process.stdout.write(terminalText(`${d.dropId}  lost       ${d.reason}\n`));
            process.stdout.write(`${rateLines(rateLimits).join('\n')}\n`);
          }
          return;
        }
        const view = isDropId(dropId) ? await ctx.ledger.getDrop(dropId) : undefined;
        if (!view && isDropId(dropId)) {
          const lost = await lostDrop(ctx.ledger, dropId, () => checkRedisDurability(ctx.redis));
          if (opts.json) process.stdout.write(`${jsonText(JSON.stringify(lost))}\n`);
          else process.stdout.write(`${terminalText(`drop      ${dropId}\nstatus    lost: ${lost.reason}`)}\n`);
          process.exitCode = EXIT.ERROR;
          return;
        }
        const p = dropProgress(view ?? (await requireDrop(ctx, dropId)));
        const { config } = ctx;
        // A running drop makes no progress while Concur refuses our credentials: say so, and why.
        const refusal =
          p.status === 'running'
            ? await readTokenRefusal(ctx.redis, config.QUEUE_PREFIX, config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID)
            : undefined;
        const decisions = await ctx.ledger.decisions(dropId);
        if (opts.json) {
          process.stdout.write(
            `${jsonText(JSON.stringify({ ...summaryOf(p), ...(refusal ? { concurPaused: refusal } : {}), decisions, progress: p, rateLimits }))}\n`,
          );
        } else {
          const lines = [
            `drop      ${p.dropId} (${p.file})`,
            `status    ${p.status}${p.reason ? `: ${p.reason}` : ''}${p.parentDropId ? ` (replay of ${p.parentDropId})` : ''}`,
            ...(refusal ? [`concur    paused since ${new Date(refusal.since).toISOString()}: ${refusal.message}`] : []),
            `rows      ${p.settled}/${p.rows ?? '?'} settled, ${p.rowsPerSecond.toFixed(1)} rows/s, ETA ${p.etaSeconds === undefined ? '?' : `${Math.ceil(p.etaSeconds)}s`}`,
            ...Object.entries(p.counts)
              .filter(([, n]) => n > 0)
              .map(([state, n]) => `  ${state.padEnd(20)} ${n}`),
            ...decisions.map(
              (d) =>
                `decision  ${d.at} ${d.action} by ${d.by} (${d.via}${d.ip ? ` from ${d.ip}` : d.host ? ` on ${d.host}` : ''})`,
            ),
            ...rateLines(rateLimits),
          ];
          process.stdout.write(`${terminalText(lines.join('\n'))}\n`);
        }
      });
    });
}
