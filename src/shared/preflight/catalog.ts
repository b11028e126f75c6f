import type { ConcurList, ListApi } from '../concur/lists.ts';
import type { SpendApi } from '../concur/spend.ts';
import { isProvError } from '../errors.ts';

/**
 * What the company's Concur accepts, read once per plan: its role catalogue, the codes of the
 * lists behind custom fields, its ledger codes. A part that could not be read is left undefined
 * and named in `notes`, and its checks are skipped: a plan never guesses a failure.
 */
export interface CompanyCatalog {
  /** The company's spend role codes; undefined when Concur did not say. */
  roleCodes: ReadonlySet<string> | undefined;
  /** Per custom field (custom3, orgUnit1, …): the list's name and its item codes. */
  listCodes: ReadonlyMap<string, { list: string; codes: ReadonlySet<string> }>;
  /** The company's ledger codes (CONCUR_LEDGER_CODES); undefined when not configured. */
  ledgerCodes: ReadonlySet<string> | undefined;
  /** What was not checked and why, for the plan's output. */
  notes: string[];
}

export interface CatalogSources {
  spend: Pick<SpendApi, 'roleCodes'>;
  lists: Pick<ListApi, 'lists' | 'items'>;
  /** Runs one Concur call under the retry rules. */
  call: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface CatalogOptions {
  /** CONCUR_LIST_FIELDS: field id → list name or id. */
  listFields: Readonly<Record<string, string>>;
  /** CONCUR_LEDGER_CODES. */
  ledgerCodes?: readonly string[] | undefined;
}

/** Reads the catalogue. Concur errors become notes (the plan goes on without that check). */
export async function loadCompanyCatalog(src: CatalogSources, options: CatalogOptions): Promise<CompanyCatalog> {
  const notes: string[] = [];
  let roleCodes: Set<string> | undefined;
  try {
    const codes = await src.call(() => src.spend.roleCodes());
    if (codes.length > 0) roleCodes = new Set(codes);
    else notes.push("spend.roles not checked: Concur's role catalogue (roleCodes) came back empty");
  } catch (err) {
    notes.push(`spend.roles not checked: Concur's role catalogue (roleCodes) could not be read (${reasonOf(err)})`);
  }

  const listCodes = new Map<string, { list: string; codes: ReadonlySet<string> }>();
  const bound = Object.entries(options.listFields);
  if (bound.length > 0) {
    let lists: ConcurList[] | undefined;
    try {
      lists = await src.call(async () => {
        const all: ConcurList[] = [];
        for await (const list of src.lists.lists()) all.push(list);
        return all;
      });
    } catch (err) {
      notes.push(
        `custom fields ${bound.map(([f]) => f).join(', ')} not checked: Concur's lists could not be read (${reasonOf(err)})`,
      );
    }
    const read = new Map<string, ReadonlySet<string>>();
    for (const [field, wanted] of lists ? bound : []) {
      const list = lists!.find((l) => l.id === wanted || l.value.toLowerCase() === wanted.toLowerCase());
      if (!list) {
        notes.push(`spend.customData.${field} not checked: Concur has no list named '${wanted}' (CONCUR_LIST_FIELDS)`);
        continue;
      }
      let codes = read.get(list.id);
      if (!codes) {
        try {
          codes = await src.call(async () => {
            const found = new Set<string>();
            for await (const item of src.lists.items(list.id)) {
              if (item.code) found.add(item.code);
              if (item.shortCode) found.add(item.shortCode);
            }
            return found;
          });
          read.set(list.id, codes);
        } catch (err) {
          notes.push(
            `spend.customData.${field} not checked: the items of list '${list.value}' could not be read (${reasonOf(err)})`,
          );
          continue;
        }
      }
      listCodes.set(field, { list: list.value, codes });
    }
  }

  const ledgerCodes = options.ledgerCodes && options.ledgerCodes.length > 0 ? new Set(options.ledgerCodes) : undefined;
  return { roleCodes, listCodes, ledgerCodes, notes };
}

/** A Concur answer is a note; Redis trouble or a bug is not the catalogue's business. */
function reasonOf(err: unknown): string {
  if (!isProvError(err) || err.code === 'PROV_ERR_REDIS' || err.code === 'PROV_ERR_INTERNAL') throw err;
  return `${err.code}${err.statusCode === undefined ? '' : ` ${err.statusCode}`}`;
}
