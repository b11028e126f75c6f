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
          format: ' {bar} {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {etaText} | {status}',
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
    const payload = {
      rate: p.rowsPerSecond.toFixed(1),
      etaText: p.etaSeconds === undefined ? '?' : `${Math.ceil(p.etaSeconds)}s`,
      status: p.reason ? `${p.status}: ${p.reason}` : p.status,
    };
    if (bar) {
      if (!started) bar.start(p.rows ?? 0, p.settled, payload);
      started = true;
      bar.setTotal(p.rows ?? Math.max(p.settled, 1));
      bar.update(p.settled, payload);
    } else if (Date.now() - lastLine >= 5_000 || STOP.has(p.status)) {
      lastLine = Date.now();
      stream.write(
        `${dropId}: ${p.settled}/${p.rows ?? '?'} rows settled, ${payload.rate} rows/s, ETA ${payload.etaText}, ${payload.status}\n`,
      );
    }
    if (STOP.has(p.status)) {
      bar?.stop();
      return p;
    }
    await sleep(interval);
  }
}
