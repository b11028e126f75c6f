import {
  ENTERPRISE_URN,
  type ConcurUser,
  type IdentityApi,
  type ListApi,
  type SpendApi,
} from '../shared/concur/index.ts';
import { ProvError } from '../shared/errors.ts';
import { DEFAULT_GUARDS, conflictHoldReason, deactivationHoldReason } from '../shared/guards/limits.ts';
import { decideIdentity, type IdentityDecision, type MatchKey } from '../shared/identity/decide.ts';
import { lookupPeople, type LookupResult } from '../shared/identity/lookup.ts';
import type { Ledger, RowOutcome } from '../shared/ledger/ledger.ts';
import { hasExtensionData, toExtensionOperations } from '../shared/mapping/to-scim.ts';
import type { PatchOperation } from '../shared/concur/patch.ts';
import type { NormalizedRow } from '../shared/mapping/types.ts';
import { loadCompanyCatalog, type CatalogOptions, type CompanyCatalog } from '../shared/preflight/catalog.ts';
import { flagsFail, type PlanFlag } from '../shared/preflight/flags.ts';
import { predictBatch, type PredictContext, type RowPrediction } from '../shared/preflight/predict.ts';
import { ReferenceForecast } from '../shared/preflight/references.ts';
import { SpendUserProbe } from '../shared/preflight/spend-users.ts';
import { ingestDrop, type IngestDeps, type IngestOptions } from './ingest.ts';

/**
 * What a real run would do with a row's identity. `conflict`: the row's keys point at another
 * Concur person, so nothing is written (docs/matching.md). `unsupported`: a record the pipeline
 * does not apply (a legacy employee import record type).
 */
export const PLAN_ACTIONS = [
  'create',
  'update',
  'unchanged',
  'deactivate',
  'invalid',
  'conflict',
  'unsupported',
] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];
/** Rows per action, and `willFail`: rows the run will fail (a `fail` flag), whatever their action. */
export type PlanCounts = Record<PlanAction, number> & { willFail: number };

/** One field that would change: `field` as Concur names it (enterprise fields without their URN). */
export interface PlanChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** One row of the plan (`rowsDetail` in `ingest --plan --json`). */
export interface PlannedRow {
  row: number;
  action: PlanAction;
  userName?: string;
  employeeNumber?: string;
  /** The Concur user the row matches. */
  uuid?: string;
  changes?: PlanChange[];
  /** Extension fields the row sends through UPS. */
  extensions?: string[];
  warnings?: string[];
  /** What Concur will refuse (`fail`) or leave out (`warn`), each with a code and the field. */
  flags?: PlanFlag[];
  error?: string;
  code?: string;
  column?: string;
  /** The source lines (a legacy employee import), space-separated. */
  lines?: string;
}

/** How the plan reads what the company's Concur accepts (roles, lists, spend users). */
export interface PlanConcurState {
  spend: Pick<SpendApi, 'roleCodes' | 'getUser'>;
  lists: Pick<ListApi, 'lists' | 'items'>;
  /** Runs one UPS-family call under the retry rules and the shared UPS limiter. */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** CONCUR_LIST_FIELDS and CONCUR_LEDGER_CODES. */
  options: CatalogOptions;
}

export interface PlanDeps extends IngestDeps {
  identity: Pick<IdentityApi, 'searchPages'>;
  /** Runs one Concur call under the retry rules (429 blocks the shared identity limiter). */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The key rows are matched on (MATCH_ON). Default: employeeNumber. */
  matchOn?: MatchKey;
  /** Without it only identities are judged: extensions are not checked against Concur. */
  state?: PlanConcurState;
}

export interface PlanResult {
  dropId: string;
  rows: number;
  plan: PlanCounts;
  /** `planned` (or `complete` when no row would be sent). */
  status: string;
  /** Set when running this drop would hold it for approval (deactivations, identity conflicts). */
  hold?: string;
  /** What the plan could not check, and why. */
  notes?: string[];
}

/** Rows looked up together: one or a few `.search` calls (filters are split by length). */
const PLAN_LOOKUP_ROWS = 200;

/**
 * `ingest --plan`: records the drop as `planned` (the normal ingest path, nothing enqueued), then
 * reads current state from Concur (batched searches, the role catalogue, lists; no writes) and
 * decides every row the way the identity stage will, flagging what Concur will refuse. The planned
 * rows are stored with the drop, so `provision ingest FILE` or `provision approve DROP` runs the
 * same rows without reading the file again.
 */
export async function planDrop(deps: PlanDeps, options: IngestOptions): Promise<PlanResult> {
  const now = deps.now ?? Date.now;
  const ingest = await ingestDrop(deps, { ...options, plan: true });
  if (ingest.existed && ingest.status !== 'planned') {
    throw new ProvError(
      'PROV_ERR_INPUT',
      `drop ${ingest.dropId} was already ingested (status ${ingest.status}); use --force to plan it again as a new drop`,
      {
        details: { dropId: ingest.dropId, status: ingest.status },
      },
    );
  }
  const { counts: plan, notes } = await computePlan(deps, ingest.dropId);
  await deps.ledger.setDropFields(ingest.dropId, { plan: JSON.stringify(plan), plannedAt: now() });
  const view = await deps.ledger.getDrop(ingest.dropId);
  const guards = deps.guards ?? DEFAULT_GUARDS;
  const hold =
    deactivationHoldReason(ingest.rows, Number(view?.meta.deactivations ?? 0), guards) ??
    conflictHoldReason(ingest.rows, plan.conflict, guards);
  return {
    dropId: ingest.dropId,
    rows: ingest.rows,
    plan,
    status: view?.meta.status ?? ingest.status,
    ...(hold ? { hold } : {}),
    ...(notes.length > 0 ? { notes } : {}),
  };
}

/** Decides every row of a recorded drop against Concur and stores the planned rows. */
export async function computePlan(
  deps: Pick<PlanDeps, 'ledger' | 'identity' | 'call' | 'matchOn' | 'state'>,
  dropId: string,
): Promise<{ counts: PlanCounts; notes: string[] }> {
  const counts = { ...Object.fromEntries(PLAN_ACTIONS.map((a) => [a, 0])), willFail: 0 } as PlanCounts;
  const file = (await deps.ledger.getDrop(dropId))?.meta.file ?? 'drop';
  const catalog: CompanyCatalog = deps.state
    ? await loadCompanyCatalog(deps.state, deps.state.options)
    : {
        roleCodes: undefined,
        listCodes: new Map(),
        ledgerCodes: undefined,
        notes: ['extensions not checked against Concur (no access to its catalogue)'],
      };
  const spendUsers = new SpendUserProbe(
    deps.state?.spend ?? { getUser: async () => undefined },
    deps.state?.call ?? ((fn) => fn()),
  );
  const ctx: PredictContext = {
    file,
    catalog,
    references: new ReferenceForecast(),
    spendUsers,
    inDrop: (employeeNumber) => deps.ledger.rowForEmployeeNumber(dropId, employeeNumber),
    matchOn: deps.matchOn,
  };
  let valid: NormalizedRow[] = [];
  let planned: PlannedRow[] = [];

  const save = async (): Promise<void> => {
    for (const p of planned) {
      counts[p.action] += 1;
      if (flagsFail(p.flags)) counts.willFail += 1;
    }
    await deps.ledger.savePlanRows(
      dropId,
      planned.map((p) => ({ row: p.row, plan: p })),
    );
    planned = [];
  };
  const decideBatch = async (): Promise<void> => {
    if (valid.length === 0) return;
    const people = await lookupPeople(deps.call, deps.identity, valid);
    for (const prediction of await predictBatch(valid, people, ctx))
      planned.push(await planRow(deps.ledger, dropId, prediction, people));
    valid = [];
    await save();
  };

  for await (const r of deps.ledger.iterateRows(dropId)) {
    if (r.state === 'invalid' || r.state === 'unsupported' || r.data === undefined) {
      planned.push(invalidRow(r.row, r.outcome, r.state === 'unsupported' ? 'unsupported' : 'invalid'));
      if (planned.length >= PLAN_LOOKUP_ROWS) await save();
      continue;
    }
    valid.push(r.data as NormalizedRow);
    if (valid.length >= PLAN_LOOKUP_ROWS) await decideBatch();
  }
  await decideBatch();
  await save();
  counts.willFail += await addLateFlags(deps.ledger, dropId, ctx.references.resolveForward());

  const notes = [...catalog.notes];
  if (spendUsers.unchecked > 0)
    notes.push(
      `${spendUsers.unchecked} existing people were not checked for a spend user (one read each; limit reached)`,
    );
  return { counts, notes };
}

/** Adds flags known only at the end (references to later rows); returns the rows that now fail. */
async function addLateFlags(ledger: Ledger, dropId: string, late: Map<number, PlanFlag[]>): Promise<number> {
  let newlyFailing = 0;
  const rows = [...late.keys()];
  for (let i = 0; i < rows.length; i += PLAN_LOOKUP_ROWS) {
    const slice = rows.slice(i, i + PLAN_LOOKUP_ROWS);
    const stored = await ledger.getPlanRows<PlannedRow>(dropId, slice);
    const updated: { row: number; plan: PlannedRow }[] = [];
    slice.forEach((row, j) => {
      const p = stored[j];
      if (!p) return;
      const before = flagsFail(p.flags);
      const flags = [...(p.flags ?? []), ...late.get(row)!];
      if (!before && flagsFail(flags)) newlyFailing += 1;
      updated.push({ row, plan: { ...p, flags } });
    });
    await ledger.savePlanRows(dropId, updated);
  }
  return newlyFailing;
}

function invalidRow(row: number, outcome: RowOutcome, action: PlanAction): PlannedRow {
  return {
    row,
    action,
    ...(typeof outcome.lines === 'string' ? { lines: outcome.lines } : {}),
    ...(typeof outcome.userName === 'string' ? { userName: outcome.userName } : {}),
    ...(typeof outcome.employeeNumber === 'string' ? { employeeNumber: outcome.employeeNumber } : {}),
    ...(typeof outcome.error === 'string' ? { error: outcome.error } : {}),
    ...(typeof outcome.code === 'string' ? { code: outcome.code } : {}),
    ...(typeof outcome.column === 'string' ? { column: outcome.column } : {}),
  };
}

/**
 * One row, decided as the identity stage decides it (`decideIdentity`), with the prediction's
 * flags. A manager who is new in this drop is linked after the manager is created: a present
 * person then counts as an update.
 */
async function planRow(
  ledger: Ledger,
  dropId: string,
  prediction: RowPrediction,
  people: LookupResult,
): Promise<PlannedRow> {
  const { row, match, flags } = prediction;
  const base: PlannedRow = {
    row: row.rowNumber,
    action: 'unchanged',
    ...(row.userName === undefined ? {} : { userName: row.userName }),
    employeeNumber: row.employeeNumber,
    ...(row.lines ? { lines: row.lines.join(' ') } : {}),
    ...(flags.length > 0 ? { flags } : {}),
  };
  if (match.kind === 'conflict')
    return { ...base, action: 'conflict', error: match.error.message, code: match.error.code };
  const existing: ConcurUser | undefined = match.kind === 'match' ? match.user : undefined;
  let managerUuid: string | undefined;
  let managerLater = false;
  const managerNumber = row.managerEmployeeNumber;
  if (managerNumber !== undefined) {
    managerUuid = people.byEmployeeNumber.get(managerNumber)?.id;
    if (!managerUuid) {
      const target = await ledger.rowForEmployeeNumber(dropId, managerNumber);
      if (target !== undefined && target !== row.rowNumber) managerLater = true;
    }
  }

  const decision: IdentityDecision = decideIdentity(row, existing, managerUuid);
  const out: PlannedRow = { ...base, ...(existing ? { uuid: existing.id } : {}) };
  // Nothing to deactivate: the DEACTIVATE_ABSENT flag says so.
  if (decision.kind === 'skip') return { ...out, action: 'unchanged' };
  // The run fails such a row at the identity stage (its NOT_IN_CONCUR flag).
  if (decision.kind === 'refuse')
    return { ...out, action: 'invalid', error: decision.reason, code: 'PROV_ERR_NOT_FOUND' };
  if (decision.kind === 'leave') {
    const rights = toExtensionOperations(row, { rightsOnly: true });
    return {
      ...out,
      action: 'unchanged',
      ...(rights.length > 0 ? { extensions: rights.map(operationField) } : {}),
      ...(decision.reason ? { warnings: [decision.reason] } : {}),
    };
  }
  const changes: PlanChange[] =
    decision.kind === 'patch'
      ? decision.changes.map((c) => ({ field: shortPath(c.path), old: c.old, new: c.new }))
      : [];
  let action: PlanAction =
    decision.kind === 'create' ? 'create' : decision.kind === 'patch' ? decision.action : 'unchanged';
  if (managerLater) {
    const current = existing
      ? (existing[ENTERPRISE_URN] as { manager?: { value?: unknown } } | undefined)?.manager?.value
      : undefined;
    if (existing)
      changes.push({ field: 'manager.value', old: current, new: `(employee ${managerNumber}, created by this drop)` });
    if (action === 'unchanged') action = 'update';
  }
  return {
    ...out,
    action,
    ...(changes.length > 0 ? { changes } : {}),
    ...(hasExtensionData(row) ? { extensions: extensionFields(row) } : {}),
  };
}

function shortPath(path: string): string {
  return path.startsWith(`${ENTERPRISE_URN}:`) ? path.slice(ENTERPRISE_URN.length + 1) : path;
}

/** A UPS operation as the plan shows it: `add spend:2.0:Role:roles`, `remove ...`. */
function operationField(o: PatchOperation): string {
  return `${o.op} ${(o.path ?? '').replace('urn:ietf:params:scim:schemas:extension:', '')}`;
}

/** The extension fields a row sends, e.g. `spend.country`, `travel.ruleClass`. */
function extensionFields(row: NormalizedRow): string[] {
  const fields: string[] = (row.upsOperations ?? []).map(operationField);
  for (const [name, data] of [
    ['spend', row.spend],
    ['travel', row.travel],
  ] as const) {
    if (!data) continue;
    for (const [key, value] of Object.entries(data)) {
      if (value === undefined) continue;
      if (key === 'customData' && value && typeof value === 'object')
        fields.push(...Object.keys(value).map((id) => `${name}.customData.${id}`));
      else fields.push(`${name}.${key}`);
    }
  }
  return fields;
}
