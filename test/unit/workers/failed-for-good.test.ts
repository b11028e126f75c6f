import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { failedForGood } from '../../../src/workers/start-worker.ts';

describe('failedForGood', () => {
  it('is true after the last attempt only', () => {
    expect(failedForGood({ attemptsMade: 11, opts: { attempts: 12 } }, new Error('x'))).toBe(false);
    expect(failedForGood({ attemptsMade: 12, opts: { attempts: 12 } }, new Error('x'))).toBe(true);
    expect(failedForGood({ attemptsMade: 1, opts: {} }, new Error('x'))).toBe(true);
  });

  it('is true for an unrecoverable error with attempts to spare (a job that stalled too often)', () => {
    expect(
      failedForGood(
        { attemptsMade: 2, opts: { attempts: 12 } },
        new UnrecoverableError('job stalled more than allowable limit'),
      ),
    ).toBe(true);
  });
});
