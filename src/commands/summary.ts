import type { DropProgress } from '../shared/ledger/progress.ts';
import { FAILED_STATES } from '../shared/ledger/states.ts';

/** The summary `ingest --wait --json` and `status --json` print: a stable shape. */
export function summaryOf(p: DropProgress): {
  dropId: string;
  rows: number;
  status: string;
  states: Record<string, number>;
  failed: number;
  reason?: string;
} {
  const failed = FAILED_STATES.reduce((n, s) => n + (p.states[s] ?? 0), 0);
  return {
    dropId: p.dropId,
    rows: p.rows ?? 0,
    status: p.status,
    states: p.states,
    failed,
    ...(p.reason ? { reason: p.reason } : {}),
  };
}
