/**
 * What a plan (and later `doctor --drop`) says Concur will do with a row it would otherwise send:
 * a flag per problem, with a stable code, a severity and a message naming the file, row and
 * field. `fail` flags are rows the run will fail (docs/safety.md#what-the-plan-predicts); `warn`
 * flags are rows that go through with something left out.
 */
export const PLAN_FLAGS = {
  /** The row's keys point at another Concur person (docs/matching.md). */
  IDENTITY_CONFLICT: 'fail',
  /** A person Concur does not have, from a row that cannot create them (a legacy update-only record). */
  NOT_IN_CONCUR: 'fail',
  /** An approver or travel manager found neither in Concur nor in the drop. */
  REFERENCE_NOT_FOUND: 'fail',
  /** An approver or travel manager whose own row in the drop will not give a Concur person. */
  REFERENCE_WILL_FAIL: 'fail',
  /** A spend role code outside the company's catalogue (`GET /profile/spend/v4/Users/roleCodes`). */
  ROLE_UNKNOWN: 'fail',
  /** A list-backed custom field or org unit whose code is not in its Concur list. */
  LIST_ITEM_UNKNOWN: 'fail',
  /** A ledger code the company does not have. */
  LEDGER_UNKNOWN: 'fail',
  /** Roles or an approver for a person who has no spend user and gets none from the row. */
  SPEND_USER_REQUIRED: 'fail',
  /** A manager found neither in Concur nor in the drop: the person is written without one. */
  MANAGER_NOT_FOUND: 'warn',
  /** `active=false` for someone Concur does not have: nothing to deactivate. */
  DEACTIVATE_ABSENT: 'warn',
} as const;

export type PlanFlagCode = keyof typeof PLAN_FLAGS;
export type PlanFlagSeverity = (typeof PLAN_FLAGS)[PlanFlagCode];

export interface PlanFlag {
  code: PlanFlagCode;
  severity: PlanFlagSeverity;
  /** The template field (`spend.roles`, `spend.customData.custom3`, …). */
  field: string;
  /** `hr.csv row 12: spend.roles: …`. */
  message: string;
}

/** Where a row comes from, for messages. */
export interface RowPlace {
  file: string;
  row: number;
}

export function planFlag(code: PlanFlagCode, at: RowPlace, field: string, reason: string): PlanFlag {
  return { code, severity: PLAN_FLAGS[code], field, message: `${at.file} row ${at.row}: ${field}: ${reason}` };
}

/** True when one of the flags says the run will fail the row. */
export function flagsFail(flags: readonly PlanFlag[] | undefined): boolean {
  return flags !== undefined && flags.some((f) => f.severity === 'fail');
}
