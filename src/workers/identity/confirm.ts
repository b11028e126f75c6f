import { ENTERPRISE_URN, type ConcurUser } from '../../shared/concur/index.ts';
import { ProvError } from '../../shared/errors.ts';
import { matchPerson, type MatchKey } from '../../shared/identity/decide.ts';
import type { RecentWrites } from '../../shared/identity/recent-writes.ts';
import type { NormalizedRow } from '../../shared/mapping/types.ts';
import type { LookupResult } from './lookup.ts';

/*
 * Concur's search lags behind its writes ("may be up to a few minutes behind"), GET /Users/{id}
 * does not (docs/concur-api.md#identity-v41-and-v4). So the identity stage never decides on its
 * own writes through search: people it wrote recently are re-read by id, and a create answered
 * 409 (often our own create whose answer was lost) is looked up until search shows the person.
 */

export interface ConfirmDeps {
  /** One look-up of the row's people (a `.search`, through the call's retries). */
  lookup(row: NormalizedRow): Promise<LookupResult>;
  /** GET /Users/{id}; undefined when Concur has no such user any more. */
  get(id: string): Promise<ConcurUser | undefined>;
  matchOn?: MatchKey;
  /** How long search may lag (CONFLICT_RESOLVE_MAX_MS). */
  maxMs: number;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const FIRST_WAIT_MS = 250;
const MAX_WAIT_MS = 10_000;

/** The look-up with some users replaced by what GET says of them (undefined: gone). */
export function withFresh(people: LookupResult, fresh: ReadonlyMap<string, ConcurUser | undefined>): LookupResult {
  const users = new Map<string, ConcurUser>();
  for (const u of [...people.byUserName.values(), ...people.byEmployeeNumber.values()]) users.set(u.id, u);
  const out: LookupResult = { byUserName: new Map(), byEmployeeNumber: new Map() };
  for (const [id, stale] of users) {
    const user = fresh.has(id) ? fresh.get(id) : stale;
    if (!user) continue;
    if (typeof user.userName === 'string') out.byUserName.set(user.userName.toLowerCase(), user);
    const emp = user[ENTERPRISE_URN]?.employeeNumber;
    if (typeof emp === 'string') out.byEmployeeNumber.set(emp, user);
  }
  return out;
}

/**
 * The look-up with the people this pipeline wrote within the search lag, and whom search does not
 * show at the version we wrote, replaced by what GET shows now.
 */
export async function confirmRecentWrites(
  people: LookupResult,
  recent: Pick<RecentWrites, 'stale'>,
  get: ConfirmDeps['get'],
): Promise<LookupResult> {
  const users = new Map<string, ConcurUser>();
  for (const u of [...people.byUserName.values(), ...people.byEmployeeNumber.values()]) users.set(u.id, u);
  const stale = await recent.stale([...users.values()]);
  if (stale.size === 0) return people;
  const fresh = new Map<string, ConcurUser | undefined>();
  for (const id of stale) fresh.set(id, await get(id));
  return withFresh(people, fresh);
}

/** Looks the row's people up, with backoff, until `answer` finds what it needs or the search lag is over. */
async function lookUntil<T>(
  row: NormalizedRow,
  deps: ConfirmDeps,
  answer: (people: LookupResult) => Promise<T | undefined>,
  signal?: AbortSignal,
): Promise<T | undefined> {
  const deadline = deps.now() + deps.maxMs;
  let wait = FIRST_WAIT_MS;
  for (;;) {
    const found = await answer(await deps.lookup(row));
    if (found !== undefined) return found;
    const left = deadline - deps.now();
    if (left <= 0) return undefined;
    await deps.sleep(Math.min(wait, left), signal);
    wait = Math.min(wait * 2, MAX_WAIT_MS);
  }
}

/**
 * A create answered 409: the person exists, most often our own create whose answer was lost.
 * Returns that person as GET shows them (to update or link), never a second user. A person who
 * never shows up holds the userName in another company (PROV_ERR_USERNAME_TAKEN); a match that is
 * someone else is an identity conflict (docs/matching.md).
 */
export async function resolveCreateConflict(
  row: NormalizedRow,
  conflict: ProvError,
  deps: ConfirmDeps,
  signal?: AbortSignal,
): Promise<ConcurUser> {
  const found = await lookUntil(
    row,
    deps,
    async (people) => {
      const match = matchPerson(row, people, deps.matchOn);
      if (match.kind === 'conflict') throw match.error;
      return match.kind === 'match' ? deps.get(match.user.id) : undefined;
    },
    signal,
  );
  if (found) return found;
  throw refersToOtherKey(conflict) ? conflict : userNameTaken(conflict, deps.maxMs);
}

/**
 * A rename (explicit previousUserName) answered 409: once search shows the holder, it is an
 * identity conflict; a holder that never shows up is in another company.
 */
export async function resolveRenameConflict(
  row: NormalizedRow,
  conflict: ProvError,
  deps: ConfirmDeps,
  signal?: AbortSignal,
): Promise<never> {
  await lookUntil(
    row,
    deps,
    async (people) => {
      const match = matchPerson(row, people, deps.matchOn);
      if (match.kind === 'conflict') throw match.error;
      return undefined;
    },
    signal,
  );
  throw refersToOtherKey(conflict) ? conflict : userNameTaken(conflict, deps.maxMs);
}

/** Whether the 409 names a key unique per company (employeeNumber, externalId) rather than userName. */
function refersToOtherKey(conflict: ProvError): boolean {
  const text = [conflict.message, JSON.stringify(conflict.details.messages ?? [])].join(' ');
  return /employeeNumber|externalId/i.test(text) && !/'userName'/i.test(text);
}

function userNameTaken(conflict: ProvError, waitedMs: number): ProvError {
  return new ProvError(
    'PROV_ERR_USERNAME_TAKEN',
    `Concur refuses the row's userName as taken, but no person of this company holds it (looked up for ${Math.round(waitedMs / 1000)} s while Concur's search caught up). A userName is unique across all of SAP Concur, so another company holds it: give the row another userName, or ask SAP Concur support who holds it, then replay the row`,
    {
      statusCode: 409,
      cause: conflict,
      details: { kind: 'conflict', statusCode: 409, correlationId: conflict.details.correlationId },
    },
  );
}
