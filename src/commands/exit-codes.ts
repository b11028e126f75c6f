/** Documented exit codes (docs/errors.md "Exit codes"); scripts rely on them. */
export const EXIT = {
  /** Every row ended done or unchanged. */
  OK: 0,
  /** The drop completed, but some rows failed, were invalid or were cancelled. */
  ROWS_FAILED: 1,
  /** Bad usage or bad configuration. */
  USAGE: 2,
  /** The command could not do its job (Redis down, file unreadable, unknown drop...). */
  ERROR: 3,
  /** The drop is held (deactivation threshold) or paused (failure brake): approve or cancel it. */
  HELD: 4,
} as const;
