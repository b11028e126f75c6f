import type { LookupResult } from '../identity/lookup.ts';
import type { NormalizedRow } from '../mapping/types.ts';
import { planFlag, type PlanFlag, type PlanFlagCode, type RowPlace } from './flags.ts';

/** A reference from a row to another person, by employeeNumber. */
interface Reference {
  field: string;
  employeeNumber: string;
  /** The flag when the person will not exist: extension references fail the row, a manager does not. */
  missing: PlanFlagCode;
  willNotExist: PlanFlagCode;
}

/** The row's references: its manager (identity), its report approver and travel manager (extensions). */
export function referencesOf(row: NormalizedRow): Reference[] {
  const refs: Reference[] = [];
  const add = (field: string, employeeNumber: string | undefined, extension: boolean) => {
    if (employeeNumber === undefined || employeeNumber === row.employeeNumber) return;
    refs.push(
      extension
        ? { field, employeeNumber, missing: 'REFERENCE_NOT_FOUND', willNotExist: 'REFERENCE_WILL_FAIL' }
        : { field, employeeNumber, missing: 'MANAGER_NOT_FOUND', willNotExist: 'MANAGER_NOT_FOUND' },
    );
  };
  add('managerEmployeeNumber', row.managerEmployeeNumber, false);
  add('spend.reportApproverEmployeeNumber', row.spend?.reportApproverEmployeeNumber, true);
  add('travel.managerEmployeeNumber', row.travel?.managerEmployeeNumber, true);
  return refs;
}

/**
 * Judges references as the pipeline resolves them: a person Concur has is found; a person the
 * drop creates is waited for; anyone else is missing (an approver or travel manager then fails the
 * row at Concur, a manager is left out). A target row of the drop that will not give a Concur person
 * (a conflict, a deactivation of someone absent) is missing too, which is known only once that row
 * is decided: rows are decided in order, so references to later rows wait in this forecast until
 * `resolveForward()`. Only such forward references are kept in memory.
 */
export class ReferenceForecast {
  /** Rows decided so far not to give a person: employeeNumber → row. */
  private readonly noPerson = new Map<string, number>();
  /** Forward references: target row → what waits for it. */
  private readonly waiting = new Map<number, { at: RowPlace; ref: Reference }[]>();
  private decidedThrough = 0;

  /** The row with this employeeNumber will not give a Concur person. */
  markNoPerson(employeeNumber: string, row: number): void {
    this.noPerson.set(employeeNumber, row);
  }

  /** Every row up to this one has been decided (and marked). */
  decided(row: number): void {
    this.decidedThrough = Math.max(this.decidedThrough, row);
  }

  /**
   * Flags for a row's references now; a reference to a later row of the drop is judged by
   * `resolveForward()`. `inDrop` finds the row of the drop with an employeeNumber (valid rows only).
   */
  async check(
    row: NormalizedRow,
    at: RowPlace,
    people: LookupResult,
    inDrop: (employeeNumber: string) => Promise<number | undefined>,
  ): Promise<PlanFlag[]> {
    const flags: PlanFlag[] = [];
    for (const ref of referencesOf(row)) {
      if (people.byEmployeeNumber.has(ref.employeeNumber)) continue;
      const target = await inDrop(ref.employeeNumber);
      if (target === undefined || target === at.row) {
        flags.push(planFlag(ref.missing, at, ref.field, `${ref.employeeNumber} is neither in Concur nor in this drop`));
      } else if (target <= this.decidedThrough) {
        const flag = this.judge(at, ref, target);
        if (flag) flags.push(flag);
      } else {
        const list = this.waiting.get(target) ?? [];
        list.push({ at, ref });
        this.waiting.set(target, list);
      }
    }
    return flags;
  }

  /** Once every row is decided: the flags of rows whose later target will not give a person. */
  resolveForward(): Map<number, PlanFlag[]> {
    const out = new Map<number, PlanFlag[]>();
    for (const [target, list] of this.waiting) {
      for (const { at, ref } of list) {
        const flag = this.judge(at, ref, target);
        if (flag) out.set(at.row, [...(out.get(at.row) ?? []), flag]);
      }
    }
    this.waiting.clear();
    return out;
  }

  private judge(at: RowPlace, ref: Reference, target: number): PlanFlag | undefined {
    if (this.noPerson.get(ref.employeeNumber) !== target) return undefined;
    return planFlag(
      ref.willNotExist,
      at,
      ref.field,
      `${ref.employeeNumber} is row ${target} of this drop, which will not give a Concur person (see that row)`,
    );
  }
}
