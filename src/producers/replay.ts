import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import { ProvError } from '../shared/errors.ts';
import type { Ledger, NewRow } from '../shared/ledger/ledger.ts';
import { REPLAYABLE_STATES, type RowState } from '../shared/ledger/states.ts';
import type { NormalizedRow } from '../shared/mapping/types.ts';
import { enqueueIdentityChunks, identityChunks } from '../shared/queues/identity.ts';

/** States replayed when the operator names none. */
export const DEFAULT_REPLAY_STATES: readonly RowState[] = REPLAYABLE_STATES;

export interface ReplayOptions {
  ledger: Ledger;
  queues: { identity: Pick<Queue, 'addBulk'> };
  dropId: string;
  states?: readonly RowState[];
  now?: () => number;
}

export interface ReplayResult {
  /** The new drop, or undefined when no row was in the given states. */
  dropId: string | undefined;
  parentDropId: string;
  rows: number;
}

/** A replay's drop id: derived from the parent and the time, in the same 16-hex shape as ingest's. */
export function replayDropId(parentDropId: string, now: number): string {
  return createHash('sha256').update(`${parentDropId}:replay:${now}`).digest('hex').slice(0, 16);
}

/**
 * Makes a new drop from the failed rows' stored records (the ledger keeps a failed row's record),
 * linked to its parent (`parentDropId` on the child, `replayDropId` on the parent). Rows are
 * renumbered 1..n, each outcome keeping `parentRow`, and enqueued like a fresh ingest: the whole
 * pipeline runs again, so a fixed cause in Concur (a missing approver, a list item) now succeeds.
 */
export async function replayDrop(options: ReplayOptions): Promise<ReplayResult> {
  const { ledger, dropId: parentDropId } = options;
  const now = options.now ?? Date.now;
  const states = new Set<string>(options.states ?? DEFAULT_REPLAY_STATES);
  const parent = await ledger.getDrop(parentDropId);
  if (!parent) throw new ProvError('PROV_ERR_INPUT', `Unknown drop ${parentDropId}`);

  const createdAt = now();
  const dropId = replayDropId(parentDropId, createdAt);
  let created = false;
  let n = 0;
  let pending: NewRow[] = [];

  const writePending = async (): Promise<void> => {
    if (pending.length === 0) return;
    await ledger.addRows(dropId, pending);
    pending = [];
  };

  for await (const r of ledger.iterateRows(parentDropId)) {
    if (!states.has(r.state) || r.data === undefined) continue;
    if (!created) {
      await ledger.createDrop({
        id: dropId,
        file: parent.meta.file,
        sha256: parent.meta.sha256,
        format: parent.meta.format,
        createdAt,
        parentDropId,
        ...(parent.meta.mappingSha256 ? { mappingSha256: parent.meta.mappingSha256 } : {}),
      });
      created = true;
    }
    n += 1;
    const record = { ...(r.data as NormalizedRow), rowNumber: n };
    pending.push({
      row: n,
      state: 'pending',
      data: record,
      outcome: {
        userName: record.userName,
        employeeNumber: record.employeeNumber,
        parentRow: r.row,
        parentState: r.state,
      },
      employeeNumber: record.employeeNumber,
    });
    if (pending.length >= 1000) await writePending();
  }
  await writePending();
  if (!created) return { dropId: undefined, parentDropId, rows: 0 };

  // Rows 1..n, enqueued like a fresh ingest's (deterministic job ids).
  await enqueueIdentityChunks(
    options.queues.identity,
    dropId,
    identityChunks(Array.from({ length: n }, (_, i) => i + 1)),
  );
  await ledger.finishIngest(dropId, n, 'running', now());
  await ledger.setDropFields(parentDropId, { replayDropId: dropId, replayedAt: createdAt });
  return { dropId, parentDropId, rows: n };
}
