import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import type { DefaultJobOptions, Queue } from 'bullmq';
import { CAPPED_BACKOFF, RETENTION, jobId } from './common.ts';

export const IDENTITY_QUEUE = 'identity';

/**
 * One job covers a chunk of rows of one drop, so one `.search` with an `or` filter looks up
 * the whole chunk. The records stay in the ledger: the job carries row numbers only.
 */
export const identityJobSchema = z.object({
  dropId: z.string().min(1),
  rows: z.array(z.number().int().positive()).min(1),
  /** Set when the rows were waiting for a manager who now exists (or ended). */
  released: z.boolean().optional(),
});

export type IdentityJob = z.infer<typeof identityJobSchema>;

/** Rows per identity job: also the size of one batched look-up. */
export const IDENTITY_CHUNK_ROWS = 50;

export const identityJobOptions: DefaultJobOptions = {
  ...RETENTION,
  // Per-call retries happen inside the job; job attempts cover crashes and Redis errors.
  attempts: 12,
  backoff: { type: CAPPED_BACKOFF, delay: 1_000 },
};

/**
 * The job's name, as Bull Board lists it: the drop and the rows it covers (`identity 3f2a… rows 1-50`),
 * so a stuck or failed job points at its rows. Workers never read it.
 */
export function identityJobName(dropId: string, rows: readonly number[]): string {
  if (rows.length === 0) return `${IDENTITY_QUEUE} ${dropId}`;
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const range = first === last ? `row ${first}` : `rows ${first}-${last}`;
  return `${IDENTITY_QUEUE} ${dropId} ${range}${rows.length < last - first + 1 ? ` (${rows.length} rows)` : ''}`;
}

/**
 * Ingest chunks get a deterministic id (a resumed ingest enqueues nothing twice). Released rows
 * get a unique one: a row may be released again while an earlier release job is still active.
 */
export function identityJobId(dropId: string, firstRow: number, releaseNonce?: string): string {
  return releaseNonce === undefined ? jobId(dropId, firstRow) : jobId(dropId, 'r', firstRow, releaseNonce);
}

/**
 * Jobs for rows released by a manager's (or a referenced person's) uuid, in chunks of
 * IDENTITY_CHUNK_ROWS: a level of the org tree is spread over every worker slot instead of
 * running as one long serial job, and each chunk hands its rows to the extension stage as it ends.
 */
export function releasedRowJobs(
  dropId: string,
  rows: readonly number[],
  nonce: string,
): { name: string; data: IdentityJob; opts: { jobId: string } }[] {
  const jobs: { name: string; data: IdentityJob; opts: { jobId: string } }[] = [];
  for (let i = 0; i < rows.length; i += IDENTITY_CHUNK_ROWS) {
    const chunk = rows.slice(i, i + IDENTITY_CHUNK_ROWS);
    jobs.push({
      name: identityJobName(dropId, chunk),
      data: { dropId, rows: chunk, released: true },
      opts: { jobId: identityJobId(dropId, chunk[0]!, nonce) },
    });
  }
  return jobs;
}

/** Re-enqueues released rows on the identity queue (each call its own nonce, so job ids never clash). */
export function releasedRowsRequeue(
  queue: Pick<Queue, 'addBulk'>,
): (dropId: string, rows: readonly number[]) => Promise<void> {
  return async (dropId, rows) => {
    await queue.addBulk(releasedRowJobs(dropId, rows, randomBytes(4).toString('hex')));
  };
}
