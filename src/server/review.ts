import type { FastifyInstance } from 'fastify';
import type { PlanChange, PlannedRow } from '../producers/plan.ts';
import { isDropId } from '../shared/keys.ts';
import type { Ledger } from '../shared/ledger/ledger.ts';
import { isTerminal } from '../shared/ledger/states.ts';

/*
 * What an operator reads before deciding (docs/operations.md#decisions): who a held drop would
 * deactivate or re-activate, and a planned drop's plan, page by page. Both read bounded slices of
 * the ledger, so a drop of 100,000 rows costs the same per page as one of 100.
 */

/** One person a held drop would deactivate or re-activate. */
export interface ReviewPerson {
  row: number;
  action: 'deactivate' | 'reactivate';
  userName?: string;
  employeeNumber?: string;
  givenName?: string;
  familyName?: string;
  /** The matched Concur user (known when the drop was planned). */
  uuid?: string;
}

/** Rows one `people` request reads at most; the answer's `next` goes on from there. */
const PEOPLE_SCAN_ROWS = 5_000;
const LEDGER_PAGE = 500;

function reactivates(changes: readonly PlanChange[] | undefined): boolean {
  return (changes ?? []).some((c) => c.field === 'active' && c.new === true && c.old === false);
}

/**
 * The people of rows `after+1…` whom the drop would deactivate (or re-activate), at most `limit`,
 * scanning at most PEOPLE_SCAN_ROWS rows. A planned drop's plan says exactly (it looked everyone
 * up); without a plan every open `active=false` row counts, and re-activations cannot be known
 * (the file does not say who is inactive in Concur today).
 */
export async function heldPeople(
  ledger: Ledger,
  dropId: string,
  rows: number,
  planned: boolean,
  after: number,
  limit: number,
): Promise<{ people: ReviewPerson[]; next: number | undefined; planned: boolean }> {
  const people: ReviewPerson[] = [];
  let row = after;
  const end = Math.min(rows, after + PEOPLE_SCAN_ROWS);
  while (row < end && people.length < limit) {
    const ids = Array.from({ length: Math.min(LEDGER_PAGE, end - row) }, (_, i) => row + 1 + i);
    const [records, plans] = await Promise.all([
      ledger.getRows<Record<string, unknown>>(dropId, ids),
      planned ? ledger.getPlanRows<PlannedRow>(dropId, ids) : Promise.resolve([]),
    ]);
    const planOf = new Map(ids.map((id, i) => [id, plans[i]]));
    for (const r of records) {
      row = r.row;
      if (isTerminal(r.state)) continue;
      const plan = planOf.get(r.row);
      const action: ReviewPerson['action'] | undefined = plan
        ? plan.action === 'deactivate'
          ? 'deactivate'
          : reactivates(plan.changes)
            ? 'reactivate'
            : undefined
        : r.data?.active === false
          ? 'deactivate'
          : undefined;
      if (!action) continue;
      const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      const person: ReviewPerson = { row: r.row, action };
      const userName = text(r.outcome.userName ?? r.data?.userName);
      const employeeNumber = text(r.outcome.employeeNumber ?? r.data?.employeeNumber);
      const givenName = text(r.data?.givenName);
      const familyName = text(r.data?.familyName);
      if (userName) person.userName = userName;
      if (employeeNumber) person.employeeNumber = employeeNumber;
      if (givenName) person.givenName = givenName;
      if (familyName) person.familyName = familyName;
      if (plan?.uuid) person.uuid = plan.uuid;
      people.push(person);
      if (people.length >= limit) break;
    }
    if (people.length < limit) row = ids[ids.length - 1]!;
  }
  return { people, next: row < rows ? row : undefined, planned };
}

export function registerReviewRoutes(app: FastifyInstance, deps: { ledger: Ledger }): void {
  const { ledger } = deps;
  const notFound = (id: string) => ({ error: { code: 'NOT_FOUND', message: `no drop ${id}` } });

  // The people a held (or planned) drop would deactivate or re-activate, `limit` at a time.
  app.get<{ Params: { id: string }; Querystring: { after?: string; limit?: string } }>(
    '/drops/:id/people',
    async (request, reply) => {
      const { id } = request.params;
      const view = isDropId(id) ? await ledger.getDrop(id) : undefined;
      if (!view) return reply.code(404).send(notFound(id));
      const after = Math.max(Math.floor(Number(request.query.after ?? 0)) || 0, 0);
      const limit = Math.min(Math.max(Number(request.query.limit ?? 50) || 50, 1), 500);
      const found = await heldPeople(ledger, id, view.meta.rows ?? 0, view.meta.plan !== undefined, after, limit);
      return {
        ...found,
        deactivations: Number(view.meta.deactivations ?? 0),
      };
    },
  );

  // A planned drop's plan: its counts and one page of rows (`size` rows from row (page-1)*size+1).
  app.get<{ Params: { id: string }; Querystring: { page?: string; size?: string } }>(
    '/drops/:id/plan',
    async (request, reply) => {
      const { id } = request.params;
      const view = isDropId(id) ? await ledger.getDrop(id) : undefined;
      if (!view) return reply.code(404).send(notFound(id));
      if (view.meta.plan === undefined)
        return reply
          .code(404)
          .send({ error: { code: 'NOT_FOUND', message: `drop ${id} has no plan (ingest --plan records one)` } });
      const rows = view.meta.rows ?? 0;
      const size = Math.min(Math.max(Math.floor(Number(request.query.size ?? 50)) || 50, 1), 500);
      const pages = Math.max(Math.ceil(rows / size), 1);
      const page = Math.min(Math.max(Math.floor(Number(request.query.page ?? 1)) || 1, 1), pages);
      const ids = Array.from(
        { length: Math.max(Math.min(size, rows - (page - 1) * size), 0) },
        (_, i) => (page - 1) * size + 1 + i,
      );
      const planned = (await ledger.getPlanRows<PlannedRow>(id, ids)).filter((p): p is PlannedRow => p !== undefined);
      let counts: unknown;
      try {
        counts = JSON.parse(view.meta.plan) as unknown;
      } catch {
        counts = undefined;
      }
      return { counts, rows, page, pages, size, planned };
    },
  );
}
