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
 * Ingest chunks get a deterministic id (a resumed ingest enqueues nothing twice). Released rows,
 * approve and the stranded-rows repair pass a nonce for a unique one: the same rows may need to run
 * again while an earlier job of theirs still exists.
 */
export function identityJobId(dropId: string, firstRow: number, nonce?: string): string {
  return nonce === undefined ? jobId(dropId, firstRow) : jobId(dropId, 'r', firstRow, nonce);
}

/** Rows cut into identity chunks of IDENTITY_CHUNK_ROWS, in the order given. */
export function identityChunks(rows: Iterable<number>): number[][] {
  const chunks: number[][] = [];
  let chunk: number[] = [];
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length >= IDENTITY_CHUNK_ROWS) {
      chunks.push(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export interface IdentityJobsOptions {
  /**
   * Without one, job ids are deterministic (a resumed ingest or replay enqueues nothing twice).
   * With one, each call's ids are new: approve, the stranded-rows repair and released rows must run
   * again even while an earlier job of the same rows still exists.
   */
  nonce?: string;
  /** The rows were waiting for a manager (or a referenced person) who now exists or ended. */
  released?: boolean;
}

/** The identity jobs of these chunks of one drop: the one place their data and ids are made. */
export function identityJobs(
  dropId: string,
  chunks: readonly (readonly number[])[],
  options: IdentityJobsOptions = {},
): { name: string; data: IdentityJob; opts: { jobId: string } }[] {
  return chunks.map((chunk) => ({
    name: IDENTITY_QUEUE,
    data: { dropId, rows: [...chunk], ...(options.released ? { released: true } : {}) },
    opts: { jobId: identityJobId(dropId, chunk[0]!, options.nonce) },
  }));
}

/** addBulk calls of at most this many jobs: one call stays a bounded Redis transaction. */
const ADD_BULK_MAX = 500;

/**
 * The one way identity jobs are enqueued (ingest, replay, approve, the stranded-rows repair,
 * released rows): chunks of a drop's rows, added in bounded addBulk calls. Returns the job count.
 */
export async function enqueueIdentityChunks(
  queue: Pick<Queue, 'addBulk'>,
  dropId: string,
  chunks: readonly (readonly number[])[],
  options: IdentityJobsOptions = {},
): Promise<number> {
  for (let i = 0; i < chunks.length; i += ADD_BULK_MAX) {
    await queue.addBulk(identityJobs(dropId, chunks.slice(i, i + ADD_BULK_MAX), options));
  }
  return chunks.length;
}

/**
 * Re-enqueues released rows on the identity queue (each call its own nonce, so job ids never
 * clash), in chunks: a level of the org tree is spread over every worker slot instead of running
 * as one long serial job, and each chunk hands its rows to the extension stage as it ends.
 */
export function releasedRowsRequeue(
  queue: Pick<Queue, 'addBulk'>,
): (dropId: string, rows: readonly number[]) => Promise<void> {
  return async (dropId, rows) => {
    const nonce = randomBytes(4).toString('hex');
    await enqueueIdentityChunks(queue, dropId, identityChunks(rows), { nonce, released: true });
  };
}
