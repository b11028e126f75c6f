/** One line of `provision doctor`: what was checked, how it went, and what to do about it. */
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  /** Stable dotted name, e.g. `redis.eviction` (scripts match on it). */
  name: string;
  status: CheckStatus;
  /** One line: what was found and, unless it passed, what to do. */
  detail: string;
}

export const pass = (name: string, detail: string): Check => ({ name, status: 'pass', detail });
export const warn = (name: string, detail: string): Check => ({ name, status: 'warn', detail });
export const fail = (name: string, detail: string): Check => ({ name, status: 'fail', detail });

/** A check that could not run because an earlier one failed: a warning pointing at the cause. */
export const notChecked = (name: string, because: string): Check => warn(name, `not checked: ${because}`);

/** The message of anything thrown, on one line. */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, ' ').trim();
}
