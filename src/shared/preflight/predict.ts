import { decideIdentity, matchPerson, type MatchKey, type PersonMatch } from '../identity/decide.ts';
import type { LookupResult } from '../identity/lookup.ts';
import { hasExtensionData } from '../mapping/to-scim.ts';
import type { NormalizedRow } from '../mapping/types.ts';
import type { CompanyCatalog } from './catalog.ts';
import { extensionFlags, needsSpendUser, sendsSpendUser, spendUserDependents } from './checks.ts';
import { planFlag, type PlanFlag } from './flags.ts';
import type { ReferenceForecast } from './references.ts';
import type { SpendUserProbe } from './spend-users.ts';

/** What predicting a drop needs: the company's catalogue and the drop's own people. */
export interface PredictContext {
  /** The drop file's name, for messages. */
  file: string;
  catalog: CompanyCatalog;
  references: ReferenceForecast;
  spendUsers: SpendUserProbe;
  /** The row of the drop with this employeeNumber (valid rows only). */
  inDrop: (employeeNumber: string) => Promise<number | undefined>;
  matchOn?: MatchKey | undefined;
}

export interface RowPrediction {
  row: NormalizedRow;
  /** Who the row is in Concur (a conflict stops it before anything is written). */
  match: PersonMatch;
  flags: PlanFlag[];
  /** False when no identity will be written (a conflict, nothing to deactivate): nothing else is sent. */
  writes: boolean;
  /** Whether the row's references and extensions were judged. */
  judged: boolean;
}

/**
 * Predicts, for a batch of valid rows in drop order looked up together, what Concur will do with
 * each: identity conflicts first (the row then sends nothing), then what its extensions and
 * references will meet. Forward references are resolved later by `ctx.references.resolveForward()`.
 */
export async function predictBatch(
  rows: readonly NormalizedRow[],
  people: LookupResult,
  ctx: PredictContext,
): Promise<RowPrediction[]> {
  const out: RowPrediction[] = [];
  for (const row of rows) {
    const match = matchPerson(row, people, ctx.matchOn);
    const at = { file: ctx.file, row: row.rowNumber };
    const flags: PlanFlag[] = [];
    const decision =
      match.kind === 'conflict' ? undefined : decideIdentity(row, match.kind === 'match' ? match.user : undefined);
    if (match.kind === 'conflict') {
      flags.push(planFlag('IDENTITY_CONFLICT', at, match.field, match.error.message));
    } else if (decision?.kind === 'skip') {
      flags.push(planFlag('DEACTIVATE_ABSENT', at, 'active', 'Concur has no such person: nothing to deactivate'));
    } else if (decision?.kind === 'refuse') {
      flags.push(planFlag('NOT_IN_CONCUR', at, 'employeeNumber', decision.reason));
    }
    const writes = match.kind !== 'conflict' && decision?.kind !== 'skip' && decision?.kind !== 'refuse';
    if (!writes) ctx.references.markNoPerson(row.employeeNumber, row.rowNumber);
    // A profile the file leaves alone (legacy WARN / IGNORE) sends only rights, which are not judged.
    out.push({ row, match, flags, writes, judged: writes && decision?.kind !== 'leave' });
  }
  const last = rows[rows.length - 1];
  if (last) ctx.references.decided(last.rowNumber);

  for (const p of out) {
    if (!p.judged) continue;
    const at = { file: ctx.file, row: p.row.rowNumber };
    p.flags.push(...(await ctx.references.check(p.row, at, people, ctx.inDrop)));
    if (!hasExtensionData(p.row)) continue;
    p.flags.push(...extensionFlags(p.row, ctx.catalog, at));
    if (needsSpendUser(p.row) && !sendsSpendUser(p.row)) {
      const has = p.match.kind === 'match' ? await ctx.spendUsers.has(p.match.user.id) : false;
      if (has === false) {
        p.flags.push(
          planFlag(
            'SPEND_USER_REQUIRED',
            at,
            spendUserDependents(p.row),
            `${p.match.kind === 'match' ? 'the person has no spend user in Concur' : 'a new person has no spend user'} and the row sends none (give spend.country, spend.reimbursementCurrency and spend.locale)`,
          ),
        );
      }
    }
  }
  return out;
}
