import { describe, expect, it } from 'vitest';
import {
  PAGE_ROWS,
  decodePage,
  encodePage,
  pageOf,
  rowsOfPage,
  type RawRow,
} from '../../../src/shared/ledger/pages.ts';

describe('ledger pages', () => {
  it('maps 1-based rows to pages of PAGE_ROWS and back', () => {
    expect(pageOf(1)).toBe(0);
    expect(pageOf(PAGE_ROWS)).toBe(0);
    expect(pageOf(PAGE_ROWS + 1)).toBe(1);
    expect(rowsOfPage(1, PAGE_ROWS + 3)).toEqual([PAGE_ROWS + 1, PAGE_ROWS + 2, PAGE_ROWS + 3]);
    expect(rowsOfPage(2, PAGE_ROWS + 3)).toEqual([]);
  });

  it('round-trips rows, keeping absent outcomes and records absent, and compresses', () => {
    const rows = new Map<number, RawRow>();
    for (let row = 1; row <= 500; row += 1) {
      rows.set(row, {
        state: 'done',
        out: JSON.stringify({
          userName: `user${row}@example.com`,
          uuid: `0000-${row}`,
          action: 'create',
          provisionId: 'p-1',
        }),
        data: null,
      });
    }
    rows.set(501, { state: 'invalid', out: null, data: '{"n":1}' });
    const buf = encodePage(rows);
    expect(decodePage(buf)).toEqual(rows);
    const plain = [...rows.values()].reduce((n, r) => n + (r.out?.length ?? 0), 0);
    expect(buf.length).toBeLessThan(plain / 3);
  });
});
