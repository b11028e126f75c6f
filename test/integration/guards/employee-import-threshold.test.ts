import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordLine } from '../../../src/demo/employee-import.ts';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { DEFAULT_GUARDS } from '../../../src/shared/guards/limits.ts';
import { simulatorPipeline } from '../../helpers/pipeline.ts';
import { silent, until } from './support.ts';

const t = simulatorPipeline({ GUARD_MIN_ROWS: '1000', MAX_FAILURE_PERCENT: '100' });
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("a legacy employee import's error threshold", () => {
  it('pauses the drop once more rows are in error than the 100 record allows (the legacy import stopped there)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ei-threshold-'));
    const path = join(dir, 'employee_t0001_20240101000000.txt');
    const lines = [
      recordLine('100', { 2: '2', 3: 'SSO', 4: 'UPDATE', 5: 'EN', 6: 'N', 7: 'N' }),
      // One line in error (counted), then people named only by a 350: not in Concur, no 305 to create them.
      recordLine('350', { 2: 'X0', 8: 'notadate' }),
      ...['X1', 'X2', 'X3', 'X4'].map((id) => recordLine('350', { 2: id, 10: 'Engineer' })),
    ];
    writeFileSync(path, `${lines.join('\r\n')}\r\n`);
    const result = await ingestDrop(
      {
        ledger: t.h.ledger,
        identityQueue: t.h.queues.identity,
        log: silent,
        guards: {
          ...DEFAULT_GUARDS,
          maxDeactivations: 500,
          maxDeactivationPercent: 20,
          maxFailurePercent: 100,
          maxConflicts: 20,
          maxConflictPercent: 5,
          minRows: 1000,
        },
      },
      { path },
    );
    expect(result).toMatchObject({ status: 'running', rows: 5, invalid: 1 });
    t.h.startIdentityWorker({ concurrency: 1 });
    const view = await until('paused', async () => {
      const v = await t.h.ledger.getDrop(result.dropId);
      return v?.meta.status === 'paused' ? v : undefined;
    });
    expect(view.meta.reason).toMatch(/^3 rows in error, more than the error threshold of the file's 100 record \(2\)/);
    expect(view.counts.identity_failed).toBe(2);
    const [failed] = await t.h.ledger.getRows(result.dropId, [2]);
    expect(failed?.outcome.error).toContain('employee X1 is not in Concur, and the row has no userName');
  });
});
