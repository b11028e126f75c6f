import type { Config } from '../config.ts';

/**
 * The safety limits of a drop (docs/safety.md).
 * Percentages are 0..100; 100 turns a percentage rule off.
 */
export interface GuardLimits {
  /** More `active=false` rows than this hold the drop. */
  maxDeactivations: number;
  /** More than this % of the rows deactivating holds the drop (drops of `minRows` rows or more). */
  maxDeactivationPercent: number;
  /** Failed rows above this % of the settled rows pause a running drop (after `minRows` settled). */
  maxFailurePercent: number;
  /** More identity conflicts than this pause a running drop (and hold a planned one when run). */
  maxConflicts: number;
  /** More conflicts than this % of the rows does the same (drops of `minRows` rows or more). */
  maxConflictPercent: number;
  /** Rows before the percentage rules apply, so a tiny drop or the first few failures do not trip them. */
  minRows: number;
  /** A file with more data rows than this is rejected while it is read (MAX_DROP_ROWS). */
  maxDropRows: number;
  /** A file whose invalid rows pass this % (from `minRows` rows read) is rejected while it is read (MAX_INVALID_PERCENT). */
  maxInvalidPercent: number;
}

/** The env schema's defaults (MAX_DEACTIVATIONS, …, MAX_CONFLICTS, MAX_CONFLICT_PERCENT, GUARD_MIN_ROWS, MAX_DROP_ROWS, MAX_INVALID_PERCENT). */
export const DEFAULT_GUARDS: GuardLimits = {
  maxDeactivations: 500,
  maxDeactivationPercent: 20,
  maxFailurePercent: 50,
  maxConflicts: 20,
  maxConflictPercent: 5,
  minRows: 50,
  maxDropRows: 1_000_000,
  maxInvalidPercent: 50,
};

export function guardsFromConfig(
  config: Pick<
    Config,
    | 'MAX_DEACTIVATIONS'
    | 'MAX_DEACTIVATION_PERCENT'
    | 'MAX_FAILURE_PERCENT'
    | 'MAX_CONFLICTS'
    | 'MAX_CONFLICT_PERCENT'
    | 'GUARD_MIN_ROWS'
    | 'MAX_DROP_ROWS'
    | 'MAX_INVALID_PERCENT'
  >,
): GuardLimits {
  return {
    maxDeactivations: config.MAX_DEACTIVATIONS,
    maxDeactivationPercent: config.MAX_DEACTIVATION_PERCENT,
    maxFailurePercent: config.MAX_FAILURE_PERCENT,
    maxConflicts: config.MAX_CONFLICTS,
    maxConflictPercent: config.MAX_CONFLICT_PERCENT,
    minRows: config.GUARD_MIN_ROWS,
    maxDropRows: config.MAX_DROP_ROWS,
    maxInvalidPercent: config.MAX_INVALID_PERCENT,
  };
}

/**
 * Why a file being read must be rejected now, before the rest of it costs Redis memory: more rows
 * than MAX_DROP_ROWS, or (from `minRows` rows on) more invalid rows than MAX_INVALID_PERCENT.
 */
export function ingestLimitProblem(
  rows: number,
  invalid: number,
  limits: Pick<GuardLimits, 'maxDropRows' | 'maxInvalidPercent' | 'minRows'>,
): string | undefined {
  if (rows > limits.maxDropRows)
    return `has more than MAX_DROP_ROWS=${limits.maxDropRows} rows; split the file or raise the limit`;
  if (rows >= limits.minRows && invalid * 100 > limits.maxInvalidPercent * rows) {
    const pct = Math.round((invalid * 1000) / rows) / 10;
    return `has ${invalid} invalid rows in its first ${rows} (${pct}%), more than MAX_INVALID_PERCENT=${limits.maxInvalidPercent}% (a wrong file, format or mapping?)`;
  }
  return undefined;
}

/**
 * Why a drop must be held for approval, or undefined when it may run. `deactivations` counts every
 * valid `active=false` row: a row for someone already inactive or absent costs nothing, but
 * counting it keeps the rule simple and errs on the side of asking (the plan shows the exact count).
 */
export function deactivationHoldReason(rows: number, deactivations: number, limits: GuardLimits): string | undefined {
  if (deactivations > limits.maxDeactivations) {
    return `${deactivations} rows deactivate people, more than MAX_DEACTIVATIONS=${limits.maxDeactivations}: approve or cancel the drop`;
  }
  if (rows >= limits.minRows && rows > 0 && deactivations * 100 > limits.maxDeactivationPercent * rows) {
    const pct = Math.round((deactivations * 1000) / rows) / 10;
    return `${deactivations} of ${rows} rows (${pct}%) deactivate people, more than MAX_DEACTIVATION_PERCENT=${limits.maxDeactivationPercent}%: approve or cancel the drop`;
  }
  return undefined;
}

/**
 * The deactivation guard while a drop runs: re-activations (rows turning an inactive person active,
 * found only once Concur is read) count like deactivations, so a wave of either holds the drop.
 * Both counts are since the drop was last approved.
 */
export function activeChangeHoldReason(
  rows: number,
  deactivations: number,
  reactivations: number,
  limits: Pick<GuardLimits, 'maxDeactivations' | 'maxDeactivationPercent' | 'minRows'>,
): string | undefined {
  const changes = deactivations + reactivations;
  const what = `${reactivations} rows re-activate and ${deactivations} deactivate people`;
  if (changes > limits.maxDeactivations) {
    return `${what} (${changes} in all), more than MAX_DEACTIVATIONS=${limits.maxDeactivations}: approve or cancel the drop`;
  }
  if (rows >= limits.minRows && rows > 0 && changes * 100 > limits.maxDeactivationPercent * rows) {
    const pct = Math.round((changes * 1000) / rows) / 10;
    return `${what} (${changes} of ${rows} rows, ${pct}%), more than MAX_DEACTIVATION_PERCENT=${limits.maxDeactivationPercent}%: approve or cancel the drop`;
  }
  return undefined;
}

/**
 * Why a drop with this many identity conflicts must stop (held before it runs, paused while it
 * runs), or undefined. Conflicts write nothing, but many of them mean the file is keyed wrongly.
 */
export function conflictHoldReason(
  rows: number,
  conflicts: number,
  limits: Pick<GuardLimits, 'maxConflicts' | 'maxConflictPercent' | 'minRows'>,
): string | undefined {
  if (conflicts > limits.maxConflicts) {
    return `${conflicts} rows conflict with other Concur people (PROV_ERR_IDENTITY_CONFLICT), more than MAX_CONFLICTS=${limits.maxConflicts}: check the file's keys, then approve or cancel the drop`;
  }
  if (rows >= limits.minRows && rows > 0 && conflicts * 100 > limits.maxConflictPercent * rows) {
    const pct = Math.round((conflicts * 1000) / rows) / 10;
    return `${conflicts} of ${rows} rows (${pct}%) conflict with other Concur people (PROV_ERR_IDENTITY_CONFLICT), more than MAX_CONFLICT_PERCENT=${limits.maxConflictPercent}%: check the file's keys, then approve or cancel the drop`;
  }
  return undefined;
}

/**
 * The failure brake, as the ledger's Lua script applies it (kept here for unit tests and docs):
 * trips when at least `minRows` rows were settled by Concur (since the last approval) and the
 * failed share passes `maxFailurePercent`.
 */
export function brakeTrips(
  settled: number,
  failed: number,
  limits: Pick<GuardLimits, 'maxFailurePercent' | 'minRows'>,
): boolean {
  return settled >= limits.minRows && settled > 0 && failed * 100 > limits.maxFailurePercent * settled;
}
