import { z } from 'zod';
import type { CallOptions, ConcurApi } from './api.ts';

/** Concur's List v4 API: the company's lists (cost centers, org units, …) and their items. */
export const LIST_BASE = '/list/v4';

const listSchema = z.looseObject({
  id: z.string(),
  value: z.string(),
  levelCount: z.number().optional(),
  isDeleted: z.boolean().optional(),
});

const itemSchema = z.looseObject({
  id: z.string(),
  code: z.string().optional(),
  shortCode: z.string().optional(),
  value: z.string().optional(),
  level: z.number().optional(),
  isDeleted: z.boolean().optional(),
});

const pageOf = <S extends z.ZodType>(item: S) =>
  z.looseObject({
    content: z.array(item).default([]),
    page: z.looseObject({ number: z.number(), totalPages: z.number() }).optional(),
  });

export type ConcurList = z.output<typeof listSchema>;
export type ConcurListItem = z.output<typeof itemSchema>;

/** Safety stop: a list of more pages than this (100 items each) is read no further. */
const MAX_PAGES = 1_000;

export class ListApi {
  constructor(private readonly api: ConcurApi) {}

  /** Every list of the company (`GET /list/v4/lists`, page by page), deleted ones left out. */
  async *lists(opts: CallOptions = {}): AsyncGenerator<ConcurList> {
    for await (const list of this.pages(`${LIST_BASE}/lists`, listSchema, 'lists', opts))
      if (list.isDeleted !== true) yield list;
  }

  /** The first-level items of a list (`GET /list/v4/lists/{id}/children`), deleted ones left out. */
  async *items(listId: string, opts: CallOptions = {}): AsyncGenerator<ConcurListItem> {
    const path = `${LIST_BASE}/lists/${encodeURIComponent(listId)}/children`;
    for await (const item of this.pages(path, itemSchema, 'list items', opts)) if (item.isDeleted !== true) yield item;
  }

  private async *pages<S extends z.ZodType>(
    path: string,
    item: S,
    what: string,
    opts: CallOptions,
  ): AsyncGenerator<z.output<S>> {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const res = await this.api.call({
        ...opts,
        method: 'GET',
        path,
        query: { page: String(page) },
        schema: pageOf(item),
        what,
      });
      yield* res.data.content as z.output<S>[];
      const totalPages = res.data.page?.totalPages ?? 1;
      if (page >= totalPages || res.data.content.length === 0) return;
    }
  }
}
