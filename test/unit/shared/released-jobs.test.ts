import { describe, expect, it } from 'vitest';
import {
  IDENTITY_CHUNK_ROWS,
  enqueueIdentityChunks,
  identityChunks,
  identityJobSchema,
  identityJobs,
} from '../../../src/shared/queues/identity.ts';

const releasedRowJobs = (dropId: string, rows: number[], nonce: string) =>
  identityJobs(dropId, identityChunks(rows), { nonce, released: true });

describe('released rows are re-enqueued in chunks', () => {
  it('splits a released level of the org tree into jobs of IDENTITY_CHUNK_ROWS rows with distinct ids', () => {
    const rows = Array.from({ length: 2 * IDENTITY_CHUNK_ROWS + 7 }, (_, i) => i + 10);
    const jobs = releasedRowJobs('d1', rows, 'n1');
    expect(jobs.map((j) => j.data.rows.length)).toEqual([IDENTITY_CHUNK_ROWS, IDENTITY_CHUNK_ROWS, 7]);
    expect(jobs.flatMap((j) => j.data.rows)).toEqual(rows);
    expect(new Set(jobs.map((j) => j.opts.jobId)).size).toBe(3);
    for (const j of jobs) expect(identityJobSchema.parse(j.data)).toMatchObject({ dropId: 'd1', released: true });
  });

  it('a new nonce gives new ids (a row may be released again while an earlier job still exists)', () => {
    expect(releasedRowJobs('d1', [5], 'a')[0]?.opts.jobId).not.toBe(releasedRowJobs('d1', [5], 'b')[0]?.opts.jobId);
  });
});

describe('identity jobs', () => {
  it('without a nonce have ids made of the drop and first row only (a resumed ingest adds nothing twice)', () => {
    const jobs = identityJobs('d1', [[1, 2], [7]]);
    expect(jobs.map((j) => j.opts.jobId)).toEqual(['d1-1', 'd1-7']);
    expect(jobs.map((j) => j.data)).toEqual([
      { dropId: 'd1', rows: [1, 2] },
      { dropId: 'd1', rows: [7] },
    ]);
  });

  it('are enqueued in bounded addBulk calls, every chunk once, in order', async () => {
    const calls: number[][][] = [];
    const queue = {
      addBulk: async (jobs: { data: { rows: number[] } }[]) => {
        calls.push(jobs.map((j) => j.data.rows));
        return [];
      },
    };
    const chunks = identityChunks(Array.from({ length: 1_001 * IDENTITY_CHUNK_ROWS }, (_, i) => i + 1));
    expect(await enqueueIdentityChunks(queue as never, 'd1', chunks)).toBe(1_001);
    expect(calls.map((c) => c.length)).toEqual([500, 500, 1]);
    expect(calls.flat()).toEqual(chunks);
  });
});
