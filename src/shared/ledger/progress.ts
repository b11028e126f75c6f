import type { DropView } from './ledger.ts';
import { TERMINAL_STATES } from './states.ts';

/** A drop's progress: what `status`, the server and the drop page show. O(1) from the counters. */
export interface DropProgress {
  dropId: string;
  file: string;
  status: string;
  reason?: string;
  rows: number | undefined;
  settled: number;
  /** 0..1, undefined while the row count is unknown (still ingesting). */
  fraction: number | undefined;
  /** Rows settled per second since ingestion ended (or began). */
  rowsPerSecond: number;
  /** Seconds until every row settles at the current rate; undefined when unknown. */
  etaSeconds: number | undefined;
  counts: Record<string, number>;
  /** Counts of terminal states only. */
  states: Record<string, number>;
  createdAt: number;
  ingestedAt?: number;
  completedAt?: number;
  parentDropId?: string;
}

export function dropProgress(view: DropView, now: number = Date.now()): DropProgress {
  const { meta } = view;
  const rows = meta.rows;
  const settled = view.terminal;
  const start = meta.createdAt;
  const end = meta.completedAt ?? now;
  const seconds = Math.max((end - start) / 1000, 0.001);
  const rowsPerSecond = settled / seconds;
  const remaining = rows === undefined ? undefined : Math.max(rows - settled, 0);
  const etaSeconds =
    remaining === undefined
      ? undefined
      : remaining === 0
        ? 0
        : rowsPerSecond > 0
          ? remaining / rowsPerSecond
          : undefined;
  const states: Record<string, number> = {};
  for (const s of TERMINAL_STATES) states[s] = view.counts[s] ?? 0;
  const progress: DropProgress = {
    dropId: meta.id,
    file: meta.file,
    status: meta.status,
    rows,
    settled,
    fraction: rows === undefined ? undefined : rows === 0 ? 1 : settled / rows,
    rowsPerSecond,
    etaSeconds,
    counts: view.counts,
    states,
    createdAt: meta.createdAt,
  };
  if (meta.reason) progress.reason = meta.reason;
  if (meta.ingestedAt) progress.ingestedAt = meta.ingestedAt;
  if (meta.completedAt) progress.completedAt = meta.completedAt;
  if (meta.parentDropId) progress.parentDropId = meta.parentDropId;
  return progress;
}
