import cliProgress from 'cli-progress';
import type { Ledger } from '../shared/ledger/ledger.ts';
import { dropProgress, type DropProgress } from '../shared/ledger/progress.ts';
import { FINISHED_STATUSES } from '../shared/ledger/states.ts';
import { sleep } from '../shared/rate-limiter.ts';

/** Statuses `--wait` stops at: the drop ended, or it needs an operator (approve or cancel). */
const STOP: ReadonlySet<string> = new Set([...FINISHED_STATUSES, 'held', 'paused']);

/**
 * Waits until the drop is complete (or cancelled, rejected, held or paused), showing a progress bar with rate and
 * ETA on a terminal, plain lines every few seconds otherwise. Held and paused drops are reported.
 */
export async function waitForDrop(
  ledger: Ledger,
  dropId: string,
  options: { intervalMs?: number; stream?: NodeJS.WriteStream } = {},
): Promise<DropProgress> {
  const stream = options.stream ?? process.stderr;
  const interval = options.intervalMs ?? 500;
  const tty = stream.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream,
          format:
            ' {bar} {percentage}% | {value}/{total} rows through, {failed} failed | {rate} rows/s | ETA {etaText} | {status}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let lastLine = 0;
  let started = false;
  for (;;) {
    const view = await ledger.getDrop(dropId);
    if (!view) throw new Error(`unknown drop ${dropId}`);
    const p = dropProgress(view);
    // Failed and cancelled rows are settled, but they are no progress: they do not fill the bar.
    const through = p.settled - p.failed - (p.counts.cancelled ?? 0);
    const payload = {
      rate: p.rowsPerSecond.toFixed(1),
      etaText: p.etaSeconds === undefined ? (STOP.has(p.status) ? '-' : '?') : `${Math.ceil(p.etaSeconds)}s`,
      failed: p.failed,
      status: p.reason ? `${p.status}: ${p.reason}` : p.status,
    };
    if (bar) {
      if (!started) bar.start(p.rows ?? 0, through, payload);
      started = true;
      bar.setTotal(p.rows ?? Math.max(p.settled, 1));
      bar.update(through, payload);
    } else if (Date.now() - lastLine >= 5_000 || STOP.has(p.status)) {
      lastLine = Date.now();
      stream.write(
        `${dropId}: ${p.settled}/${p.rows ?? '?'} rows settled (${p.failed} failed), ${payload.rate} rows/s, ETA ${payload.etaText}, ${payload.status}\n`,
      );
    }
    if (STOP.has(p.status)) {
      bar?.stop();
      return p;
    }
    await sleep(interval);
  }
}
