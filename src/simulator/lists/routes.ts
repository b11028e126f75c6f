import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SimContext } from '../context.ts';
import { SimHttpError } from '../errors.ts';
import { companyLists, type SimList, type SimListItem } from './catalog.ts';

/*
 * Concur's List v4 API (GET only): /list/v4/lists, /list/v4/lists/{id}, first-level items at
 * /list/v4/lists/{id}/children, /list/v4/items/{id}. Pages of 100 numbered from 1, filters as
 * `field=op:value` (eq when no op), and List v4's own error body (not SCIM).
 */

const config = { family: 'lists' as const };
const PAGE_SIZE = 100;
const CATEGORY = { id: 'b77877c5-7e48-474f-bf1f-f5d85181fac8', type: 'Normal' };

function listBody(list: SimList): Record<string, unknown> {
  return {
    id: list.id,
    value: list.name,
    levelCount: 1,
    searchCriteria: 'TEXT',
    displayFormat: '(CODE) TEXT',
    category: CATEGORY,
    isReadOnly: false,
    isDeleted: false,
    managedBy: null,
  };
}

function itemBody(list: SimList, item: SimListItem): Record<string, unknown> {
  return {
    id: item.id,
    code: item.code,
    shortCode: item.code,
    value: item.code,
    parentId: null,
    level: 1,
    isDeleted: false,
    lists: [{ id: list.id, hasChildren: false }],
  };
}

/** List v4's error shape: `{timestamp, httpStatus, error: {id, message}, path}`. */
function listError(request: FastifyRequest, status: 400 | 404, message: string): SimHttpError {
  return new SimHttpError(status, {
    timestamp: new Date().toISOString(),
    httpStatus: status === 404 ? '404 - Not Found' : '400 - Bad Request',
    error: { id: status === 404 ? 'list.not.found' : 'request.invalid', message },
    path: request.url.split('?')[0],
  });
}

/** `value`, `eq:value`, `sw:`, `ew:`, `cp:`, `not:` (case-insensitive, as Concur's examples suggest). */
function matcher(raw: unknown): ((s: string) => boolean) | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  const m = /^(eq|not|sw|ew|cp):(.*)$/s.exec(raw);
  const op = m?.[1] ?? 'eq';
  const want = (m ? m[2]! : raw).toLowerCase();
  return (s) => {
    const v = s.toLowerCase();
    if (op === 'not') return v !== want;
    if (op === 'sw') return v.startsWith(want);
    if (op === 'ew') return v.endsWith(want);
    if (op === 'cp') return v.includes(want);
    return v === want;
  };
}

function paged<T>(request: FastifyRequest, all: T[], render: (t: T) => Record<string, unknown>) {
  const raw = (request.query as Record<string, unknown>).page;
  const number = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isInteger(number) || number < 1) throw listError(request, 400, `Invalid page '${String(raw)}'`);
  const totalPages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const path = request.url.split('?')[0] ?? '';
  return {
    links: number < totalPages ? [{ rel: 'next', href: `${path}?page=${number + 1}` }] : [],
    content: all.slice((number - 1) * PAGE_SIZE, number * PAGE_SIZE).map(render),
    page: { size: PAGE_SIZE, totalElements: all.length, totalPages, number },
  };
}

export function registerListRoutes(app: FastifyInstance, ctx: SimContext): void {
  const lists = (request: FastifyRequest): SimList[] => {
    ctx.auth.verify(request.headers.authorization, 'company');
    return companyLists(ctx.knobs);
  };
  const listOf = (request: FastifyRequest, id: string): SimList => {
    const list = lists(request).find((l) => l.id === id);
    if (!list) throw listError(request, 404, `List ${id} not found`);
    return list;
  };

  app.get('/list/v4/lists', { config }, async (request) => {
    const byValue = matcher((request.query as Record<string, unknown>).value);
    const found = lists(request).filter((l) => !byValue || byValue(l.name));
    return paged(request, found, listBody);
  });

  app.get('/list/v4/lists/:listId', { config }, async (request) =>
    listBody(listOf(request, (request.params as { listId: string }).listId)),
  );

  app.get('/list/v4/lists/:listId/children', { config }, async (request) => {
    const list = listOf(request, (request.params as { listId: string }).listId);
    const q = request.query as Record<string, unknown>;
    const byCode = matcher(q.shortCode);
    const byValue = matcher(q.value);
    const byEither = matcher(q.shortCodeOrValue);
    const items = list.items.filter(
      (i) => (!byCode || byCode(i.code)) && (!byValue || byValue(i.code)) && (!byEither || byEither(i.code)),
    );
    return paged(request, items, (i) => itemBody(list, i));
  });

  app.get('/list/v4/items/:itemId', { config }, async (request) => {
    const { itemId } = request.params as { itemId: string };
    for (const list of lists(request)) {
      const item = list.items.find((i) => i.id === itemId);
      if (item) return itemBody(list, item);
    }
    throw listError(request, 404, `List item ${itemId} not found`);
  });
}
