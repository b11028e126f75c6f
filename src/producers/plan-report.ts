import type { Ledger } from '../shared/ledger/ledger.ts';
import { describeChange as describeFieldChange, type ReportRecord } from '../shared/ledger/report.ts';
import type { PlanChange, PlannedRow } from './plan.ts';

/**
 * The plan as report records: the same columns as a real run's report (`REPORT_COLUMNS`), with
 * `state` `planned` (or `invalid`), `action` what the run would do, `uuid` the matched Concur user,
 * `errorCode` / `schemaPath` the first failing flag's code and field, and `message` the field-level
 * difference (old → new), the extensions it sends and every flag.
 */
export function planReportRecord(p: PlannedRow): ReportRecord {
  const parts: string[] = [];
  // A conflict's error is its IDENTITY_CONFLICT flag, listed below.
  if (p.error && p.action !== 'conflict') parts.push(p.error);
  if (p.changes && p.changes.length > 0) parts.push(p.changes.map(describeChange).join('; '));
  if (p.extensions && p.extensions.length > 0) parts.push(`extensions will be sent: ${p.extensions.join(', ')}`);
  if (p.warnings) parts.push(...p.warnings);
  for (const f of p.flags ?? []) parts.push(`${f.severity === 'fail' ? 'will fail' : 'note'} ${f.code}: ${f.message}`);
  const failing = p.flags?.find((f) => f.severity === 'fail');
  return {
    row: String(p.row),
    userName: p.userName ?? '',
    employeeNumber: p.employeeNumber ?? '',
    state: p.action === 'invalid' || p.action === 'unsupported' ? p.action : 'planned',
    action: p.action,
    uuid: p.uuid ?? '',
    provisionId: '',
    errorCode: p.code ?? failing?.code ?? '',
    message: parts.join(' | '),
    schemaPath: p.column ?? failing?.field ?? '',
    lines: p.lines ?? '',
  };
}

export function describeChange(c: PlanChange): string {
  return describeFieldChange(c);
}

/** The stored plan of a drop, in row order, as report records. */
export async function* planReportRecords(ledger: Ledger, dropId: string): AsyncGenerator<ReportRecord> {
  for await (const p of ledger.iteratePlanRows<PlannedRow>(dropId)) yield planReportRecord(p);
}
