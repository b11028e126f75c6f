import { randomUUID } from 'node:crypto';
import type { HubEvent } from '../context.ts';
import { ENTERPRISE_URN, isRecord } from '../identity/schema.ts';
import type { UserChange } from '../identity/store.ts';
import { TRAVEL_USER_URN } from '../ups/urns.ts';

// The profile change events of ESS (docs/concur-api.md#events): identity on
// `public.concur.user.profile.identity`, Spend on `public.concur.user.profile.spend`, Travel on
// `public.concur.user.travel.profile`. They name what changed, never the values.

const SPEND_PREFIX = 'urn:ietf:params:scim:schemas:extension:spend:2.0:';
const PAYROLL_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll';
type Kind = 'Created' | 'Updated' | 'Deleted';

const isSpend = (urn: string): boolean => urn.startsWith(SPEND_PREFIX) || urn === PAYROLL_URN;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Changed attribute paths as the identity event lists them (`name.familyName`, `urn:...:User.startDate`). */
function changedIdentityAttributes(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (key === 'meta' || key === 'schemas' || key === 'id' || same(before[key], after[key])) continue;
    const b = before[key];
    const a = after[key];
    if ((key === ENTERPRISE_URN || key === 'name') && isRecord(b) && isRecord(a)) {
      const sep = key === 'name' ? 'name.' : `${ENTERPRISE_URN}.`;
      for (const sub of new Set([...Object.keys(b), ...Object.keys(a)]))
        if (!same(b[sub], a[sub])) out.push(`${sep}${sub}`);
    } else out.push(key);
  }
  return out;
}

function identityEvent(change: Extract<UserChange, { kind: 'identity' }>, baseUrl: string): HubEvent | undefined {
  const { before, after, companyId, id } = change;
  const kind: Kind = !before ? 'Created' : !after ? 'Deleted' : 'Updated';
  const attributes = before && after ? changedIdentityAttributes(before, after) : null;
  if (attributes && attributes.length === 0) return undefined;
  return {
    topic: 'public.concur.user.profile.identity',
    eventType: `IdentityProfile${kind}`,
    subtopic: id,
    companyId,
    correlationId: randomUUID(),
    facts: {
      originator: 'com.concur.profile',
      companyId,
      userId: id,
      userHref: `${baseUrl}/profile/identity/v4/Users/${id}`,
      attributes,
    },
  };
}

function extensionEvent(change: Extract<UserChange, { kind: 'extension' }>, baseUrl: string): HubEvent | undefined {
  const { urn, before, after, companyId, id } = change;
  if (same(before[urn], after[urn])) return undefined;
  const spend = isSpend(urn);
  if (!spend && urn !== TRAVEL_USER_URN) return undefined;
  const has = (all: Record<string, unknown>): boolean =>
    spend ? Object.keys(all).some(isSpend) : all[TRAVEL_USER_URN] !== undefined;
  const kind: Kind = !has(before) ? 'Created' : !has(after) ? 'Deleted' : 'Updated';
  if (spend) {
    return {
      topic: 'public.concur.user.profile.spend',
      eventType: `SpendProfile${kind}`,
      subtopic: id,
      companyId,
      correlationId: randomUUID(),
      facts: {
        originator: 'com.concur.prod.expense.ces',
        companyId,
        userId: id,
        userHref: `${baseUrl}/profile/spend/v4/Users/${id}`,
        attributes: kind === 'Updated' ? [urn] : null,
      },
    };
  }
  const b = isRecord(before[urn]) ? before[urn] : {};
  const a = isRecord(after[urn]) ? after[urn] : {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => !same(b[k], a[k]));
  return {
    topic: 'public.concur.user.travel.profile',
    eventType: `TravelProfile${kind}`,
    subtopic: id,
    companyId,
    correlationId: randomUUID(),
    facts: { originator: 'concur-simulator', companyId, userId: id, attributes: kind === 'Updated' ? keys : [] },
  };
}

/** The ESS event a committed change publishes, if any. */
export function profileEvent(change: UserChange, baseUrl: string): HubEvent | undefined {
  return change.kind === 'identity' ? identityEvent(change, baseUrl) : extensionEvent(change, baseUrl);
}
