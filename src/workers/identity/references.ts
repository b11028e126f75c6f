import type { RowWaits } from '../../shared/ledger/ports.ts';
import { extensionReferences } from '../../shared/mapping/to-scim.ts';
import type { NormalizedRow } from '../../shared/mapping/types.ts';
import type { WaitAnswer } from './decisions.ts';
import type { LookupResult } from './lookup.ts';

type Peeked = Awaited<ReturnType<RowWaits['peekReferences']>>;

/**
 * The rows of this drop that a chunk's rows refer to (managers, approvers), read once when the
 * chunk starts instead of once per reference: each round trip to Redis costs the worker more CPU
 * than the work it asks for. What the peek found for good (a uuid, a row that ended) cannot change;
 * a row still being written is asked again through `waitFor`, which registers the wait atomically.
 */
export class ChunkReferences {
  private constructor(
    private readonly ledger: Pick<RowWaits, 'waitFor' | 'rowForEmployeeNumber'>,
    private readonly dropId: string,
    private readonly asked: ReadonlySet<string>,
    private readonly peeked: Peeked,
  ) {}

  /** Peeks at every in-drop reference of `rows` the look-up did not find in Concur. */
  static async peek(
    ledger: Pick<RowWaits, 'peekReferences' | 'waitFor' | 'rowForEmployeeNumber'>,
    dropId: string,
    rows: readonly NormalizedRow[],
    people: LookupResult,
  ): Promise<ChunkReferences> {
    const asked = new Set<string>();
    for (const row of rows) {
      for (const n of [row.managerEmployeeNumber, ...extensionReferences(row)]) {
        if (n !== undefined && !people.byEmployeeNumber.has(n)) asked.add(n);
      }
    }
    const peeked = asked.size > 0 ? await ledger.peekReferences(dropId, [...asked]) : new Map();
    return new ChunkReferences(ledger, dropId, asked, peeked);
  }

  /** The drop's row with this employee number, if any (rows of a drop never change numbers). */
  async rowOf(employeeNumber: string): Promise<number | undefined> {
    if (this.asked.has(employeeNumber)) return this.peeked.get(employeeNumber)?.row;
    return this.ledger.rowForEmployeeNumber(this.dropId, employeeNumber);
  }

  /**
   * The uuid of `targetRow` (the row of `employeeNumber`), `ended` when it ended without one, or
   * `waiting` after registering `waiterRow` to be released once it has one or ends.
   */
  async waitFor(employeeNumber: string, targetRow: number, waiterRow: number): Promise<WaitAnswer> {
    const peeked = this.peeked.get(employeeNumber);
    if (peeked?.row === targetRow && peeked.settled) return peeked.settled;
    return this.ledger.waitFor(this.dropId, targetRow, waiterRow);
  }
}
