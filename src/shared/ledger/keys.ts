/** The shape of every drop id (16 hex characters today; a little wider for what may come). */
export const DROP_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isDropId(value: unknown): value is string {
  return typeof value === 'string' && DROP_ID_PATTERN.test(value);
}

/**
 * Ledger key layout. Every key of one drop shares the queue prefix's hash tag (`{prov}` by
 * default), so multi-key Lua scripts also run on Redis Cluster.
 */
export interface DropKeys {
  /** Hash: drop metadata (file, checksum, rows, status, timings). */
  meta: string;
  /** Hash: state -> row count, plus `_terminal`. */
  counts: string;
  /** Hash: row number -> state. */
  rows: string;
  /** Hash: row number -> normalized row JSON (the record; jobs carry only row numbers). */
  data: string;
  /** Hash: row number -> outcome JSON (uuid, provisionId, error, warnings). */
  out: string;
  /** Hash: employeeNumber -> row number (in-drop references). */
  emp: string;
  /** Prefix of per-row waiter sets: rows waiting for this row's uuid. */
  waitersPrefix: string;
  /** Hash: row number -> planned action JSON (`ingest --plan`). */
  plan: string;
  /** Prefix of the compressed pages of a finished drop's rows (see pages.ts). */
  pagePrefix: string;
}

export function ledgerRoot(prefix: string): string {
  return `${prefix}:ledger`;
}

export function dropIndexKey(prefix: string): string {
  return `${ledgerRoot(prefix)}:drops`;
}

export function dropKeys(prefix: string, dropId: string): DropKeys {
  const base = `${ledgerRoot(prefix)}:drop:${dropId}`;
  return {
    meta: base,
    counts: `${base}:counts`,
    rows: `${base}:rows`,
    data: `${base}:data`,
    out: `${base}:out`,
    emp: `${base}:emp`,
    waitersPrefix: `${base}:waiters:`,
    plan: `${base}:plan`,
    pagePrefix: `${base}:page:`,
  };
}
