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

/** A phone number, e-mail or address by SCIM `type` (one per type, as Concur keeps them). */
export interface TypedValue {
  type: string;
  value: string;
}

export interface AddressData {
  type: string;
  streetAddress?: string;
  locality?: string;
  region?: string;
  postalCode?: string;
  country?: string;
}

/** Entitlements (Expense, Invoice, Request, Travel) a row grants or revokes. */
export interface EntitlementChanges {
  grant?: string[];
  revoke?: string[];
  /** Granted only when the row creates the person (the legacy Expense User default). */
  onCreate?: string[];
}

/**
 * One UPS PatchOp operation a row carries beyond `spend`/`travel` (the legacy employee import:
 * filtered adds and removes of roles, approvers, delegates and approval limits, cleared fields).
 */
export interface RowOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
  /** A right or link (role, approval limit, delegate): still sent when `whenExists` skips the profile. */
  rights?: true;
  /** Sent only when the identity stage created the person (e.g. a default rule class). */
  onCreate?: true;
}

/**
 * A row that passed validation. Optional fields are absent when the cell was empty: an empty
 * cell means "leave Concur's value alone", never "clear it".
 *
 * userName, givenName, familyName and email are needed to create a person; a legacy employee
 * import row that only updates someone (a 350, a 700...) may lack them, and then fails if the
 * person is not in Concur.
 */
export interface NormalizedRow {
  rowNumber: number;
  userName?: string;
  givenName?: string;
  familyName?: string;
  email?: string;
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
  /**
   * When the row's data is true (epoch ms): the `asOf` cell, else the drop's (its manifest's, or its
   * creation time), set at ingest. A person's data older than the last drop applied to them is not
   * written (docs/safety.md#an-older-drop-never-undoes-a-newer-one).
   */
  asOf?: number;
  spend?: SpendData;
  travel?: TravelData;
  nickName?: string;
  honorificPrefix?: string;
  honorificSuffix?: string;
  /** `YYYY-MM-DD`. */
  dateOfBirth?: string;
  phoneNumbers?: TypedValue[];
  addresses?: AddressData[];
  /** E-mails besides the work one (`work2`, `other`). */
  otherEmails?: TypedValue[];
  entitlements?: EntitlementChanges;
  /** SAP Global ID (`urn:…:sap:2.0:User:userUuid`). */
  sapUserUuid?: string;
  /** Identity attributes to clear (SCIM paths, e.g. `nickName`, `phoneNumbers[type eq "fax"]`). */
  clearIdentity?: string[];
  /** UPS operations sent after the `spend`/`travel` payload, in order. */
  upsOperations?: RowOperation[];
  /** Employee numbers `upsOperations` point at (the row waits for those people like for an approver). */
  upsReferences?: string[];
  /**
   * How the row's userName meets an existing person (legacy employee import, where only a 320
   * changes a Login ID): `createOnly`, used to create the person and never changed (SAP: "a 305
   * cannot change a Login ID"); `explicit`, a change the file asks for (a 320's New Login ID, whose
   * current login the file does not give). Absent: docs/matching.md.
   */
  userNameRule?: 'createOnly' | 'explicit';
  /** When the person already exists: `warn` or `ignore` leave the profile alone (the legacy 100 record). */
  whenExists?: 'warn' | 'ignore';
  /** Source lines of the row (the legacy employee import: every record of the person). */
  lines?: number[];
  /** Warnings found at ingest, carried into the row's outcome. */
  warnings?: string[];
}

/** A row of the default template (or a mapping): it always names the person in full. */
export type TemplateRow = NormalizedRow &
  Required<Pick<NormalizedRow, 'userName' | 'givenName' | 'familyName' | 'email'>>;

export type NormalizeResult = { ok: true; row: TemplateRow } | { ok: false; errors: FieldError[] };

/** A cell after the mapping: its template column value and the file column it came from. */
export interface MappedCell {
  value: RawValue;
  /** The column as the file names it, or `(constant)` / `(default)` for mapping-supplied values. */
  source: string;
}

/** Cells keyed by template column name. Null prototype. */
export type MappedRecord = Record<string, MappedCell>;
