/**
 * Shapes shared by the drop readers (producers) and the mapping layer. They live in shared so the
 * workers can import them without importing a producer.
 */

/**
 * One cell as a reader hands it over. CSV gives strings only; JSON adds booleans, null and arrays
 * of scalars (numbers arrive as their source text, so `12345678901234567890` keeps every digit).
 */
export type RawValue = string | boolean | null | string[];

/** One input row keyed by column name (CSV header or dotted JSON key). Null prototype. */
export type RawRecord = Record<string, RawValue>;

/** A rule broken by one cell. `column` names the column as the file spells it. */
export interface FieldError {
  row: number;
  column: string;
  reason: string;
  /** The template column the cell maps to, when it differs from `column`. */
  field?: string;
}

/** Spend data of a row (urn:…:spend:2.0:User, Role and Approver). Absent keys are not managed. */
export interface SpendData {
  country?: string;
  reimbursementCurrency?: string;
  locale?: string;
  ledgerCode?: string;
  stateProvince?: string;
  cashAdvanceAccountCode?: string;
  roles?: string[];
  reportApproverEmployeeNumber?: string;
  /** Keyed by Concur id: custom1..custom22, orgUnit1..orgUnit6. */
  customData?: Record<string, string>;
}

/** Travel data of a row (urn:…:travel:2.0:User). */
export interface TravelData {
  /** An all-digit cell is a rule class id, anything else its name. */
  ruleClass?: { id: number } | { name: string };
  groups?: number[];
  managerEmployeeNumber?: string;
}

/**
 * A row that passed validation. Optional fields are absent when the cell was empty: an empty
 * cell means "leave Concur's value alone", never "clear it".
 */
export interface NormalizedRow {
  rowNumber: number;
  userName: string;
  givenName: string;
  familyName: string;
  email: string;
  employeeNumber: string;
  /** Absent when empty: a create then sends `true`, an update leaves the flag alone. */
  active?: boolean;
  middleName?: string;
  externalId?: string;
  title?: string;
  timezone?: string;
  preferredLanguage?: string;
  costCenter?: string;
  department?: string;
  division?: string;
  /** `YYYY-MM-DD`. */
  startDate?: string;
  /** `YYYY-MM-DD`. */
  terminationDate?: string;
  managerEmployeeNumber?: string;
  /**
   * An explicit change of the person's employeeNumber: the one Concur holds now. Absent when the
   * cell is empty or equal to `employeeNumber` (docs/matching.md).
   */
  previousEmployeeNumber?: string;
  /** An explicit change of the person's userName: the one Concur holds now (docs/matching.md). */
  previousUserName?: string;
  spend?: SpendData;
  travel?: TravelData;
}

export type NormalizeResult = { ok: true; row: NormalizedRow } | { ok: false; errors: FieldError[] };

/** A cell after the mapping: its template column value and the file column it came from. */
export interface MappedCell {
  value: RawValue;
  /** The column as the file names it, or `(constant)` / `(default)` for mapping-supplied values. */
  source: string;
}

/** Cells keyed by template column name. Null prototype. */
export type MappedRecord = Record<string, MappedCell>;
