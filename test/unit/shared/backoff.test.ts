import type { MinimalJob } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { BACKOFF_CAP_MS, CAPPED_BACKOFF, cappedBackoff } from '../../../src/shared/queues/common.ts';
import { extensionJobOptions, sweepFlushJobId, flushJobId } from '../../../src/shared/queues/extension.ts';
import { identityJobOptions } from '../../../src/shared/queues/identity.ts';
import { statusJobOptions } from '../../../src/shared/queues/status.ts';

const jobWith = (delay: number) => ({ opts: { backoff: { type: CAPPED_BACKOFF, delay } } }) as unknown as MinimalJob;
const noJitter = () => 1;

describe('capped retry backoff', () => {
  it('doubles from the job delay and stops at the cap', () => {
    const waits = [1, 2, 3, 4, 5, 6, 10].map((n) =>
      cappedBackoff(n, CAPPED_BACKOFF, undefined, jobWith(1_000), noJitter),
    );
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, BACKOFF_CAP_MS, BACKOFF_CAP_MS, BACKOFF_CAP_MS]);
  });

  it('jitters down by at most a fifth', () => {
    expect(cappedBackoff(3, CAPPED_BACKOFF, undefined, jobWith(2_000), () => 0)).toBe(6_400);
    expect(cappedBackoff(30, CAPPED_BACKOFF, undefined, jobWith(2_000), () => 0)).toBe(BACKOFF_CAP_MS * 0.8);
  });

  it('every pipeline queue uses it, with patience for a two-minute outage', () => {
    for (const opts of [identityJobOptions, extensionJobOptions, statusJobOptions]) {
      expect(opts.backoff).toMatchObject({ type: CAPPED_BACKOFF });
      const delay = (opts.backoff as { delay: number }).delay;
      let total = 0;
      for (let n = 1; n < (opts.attempts ?? 1); n += 1)
        total += cappedBackoff(n, CAPPED_BACKOFF, undefined, jobWith(delay), () => 0);
      expect(total).toBeGreaterThan(90_000);
    }
  });

  it('the sweep flush never shares an id with a generation flush', () => {
    expect(sweepFlushJobId(7, 1_000)).not.toBe(flushJobId(7));
    expect(sweepFlushJobId(7, 1_000)).not.toBe(flushJobId(7, true));
    expect(sweepFlushJobId(7, 1_000)).not.toBe(sweepFlushJobId(7, 2_000));
  });
});
