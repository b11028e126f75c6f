import { describe, expect, it } from 'vitest';
import { IDENTITY_CHUNK_ROWS, identityJobSchema, releasedRowJobs } from '../../../src/shared/queues/identity.ts';

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
