import { createHash } from 'node:crypto';
import type { Knobs } from '../knobs.ts';

/**
 * The company's lists as the List v4 API serves them, built from the same knobs UPS validates
 * `customData` against (`spendListItems`, named by `spendListNames`), so what the List API says
 * is exactly what a provision accepts. Lists are one level deep (no connected lists).
 */
export interface SimList {
  id: string;
  name: string;
  /** The `customData` fields (custom1..22, orgUnit1..6) this list backs. */
  fields: string[];
  items: SimListItem[];
}

export interface SimListItem {
  id: string;
  code: string;
}

/** A stable UUID-shaped id from a name (the same list keeps its id across restarts and config patches). */
function stableId(...parts: string[]): string {
  const h = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Every configured list, in name order. Fields sharing a list name share one list (the union of their codes). */
export function companyLists(knobs: Pick<Knobs, 'spendListItems' | 'spendListNames'>): SimList[] {
  const byName = new Map<string, { fields: string[]; codes: Set<string> }>();
  for (const [field, codes] of Object.entries(knobs.spendListItems)) {
    const name = knobs.spendListNames[field] ?? field;
    const list = byName.get(name) ?? { fields: [], codes: new Set<string>() };
    list.fields.push(field);
    for (const code of codes) list.codes.add(code);
    byName.set(name, list);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => {
      const id = stableId('list', name);
      return {
        id,
        name,
        fields: list.fields,
        items: [...list.codes].map((code) => ({ id: stableId('item', id, code), code })),
      };
    });
}
