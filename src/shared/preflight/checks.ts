import { SPEND_USER_FIELDS } from '../mapping/template.ts';
import type { NormalizedRow } from '../mapping/types.ts';
import type { CompanyCatalog } from './catalog.ts';
import { planFlag, type PlanFlag, type RowPlace } from './flags.ts';

/** Whether the row sends a spend user (any `spend:2.0:User` field; validation makes it complete). */
export function sendsSpendUser(row: NormalizedRow): boolean {
  const spend = row.spend;
  return (
    spend !== undefined && (spend.customData !== undefined || SPEND_USER_FIELDS.some((k) => spend[k] !== undefined))
  );
}

/**
 * Whether the row sends spend extensions that need a spend user (roles, an approver): Concur
 * refuses them for a person who has none. A row with record operations or entitlements (the legacy
 * employee import) is not judged: those may bring a spend profile the plan does not model.
 */
export function needsSpendUser(row: NormalizedRow): boolean {
  if ((row.upsOperations?.length ?? 0) > 0 || row.entitlements !== undefined) return false;
  return row.spend?.roles !== undefined || row.spend?.reportApproverEmployeeNumber !== undefined;
}

/** The spend fields that need a spend user, for messages. */
export function spendUserDependents(row: NormalizedRow): string {
  return row.spend?.roles !== undefined ? 'spend.roles' : 'spend.reportApproverEmployeeNumber';
}

/**
 * Extension values Concur will refuse, judged against the company's catalogue: role codes it does
 * not have, list items not in their list, a ledger it does not know. Parts of the catalogue that
 * could not be read are not judged.
 */
export function extensionFlags(row: NormalizedRow, catalog: CompanyCatalog, at: RowPlace): PlanFlag[] {
  const flags: PlanFlag[] = [];
  const spend = row.spend;
  if (!spend) return flags;
  if (spend.roles && catalog.roleCodes) {
    const unknown = spend.roles.filter((r) => !catalog.roleCodes!.has(r));
    if (unknown.length > 0) {
      flags.push(
        planFlag(
          'ROLE_UNKNOWN',
          at,
          'spend.roles',
          `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in Concur's role catalogue (roleCodes)`,
        ),
      );
    }
  }
  for (const [id, value] of Object.entries(spend.customData ?? {})) {
    const list = catalog.listCodes.get(id);
    if (list && !list.codes.has(value)) {
      flags.push(
        planFlag(
          'LIST_ITEM_UNKNOWN',
          at,
          `spend.customData.${id}`,
          `'${value}' is not a code of Concur's list '${list.list}'`,
        ),
      );
    }
  }
  if (spend.ledgerCode !== undefined && catalog.ledgerCodes && !catalog.ledgerCodes.has(spend.ledgerCode)) {
    flags.push(
      planFlag(
        'LEDGER_UNKNOWN',
        at,
        'spend.ledgerCode',
        `'${spend.ledgerCode}' is not one of the company's ledgers (CONCUR_LEDGER_CODES)`,
      ),
    );
  }
  return flags;
}
