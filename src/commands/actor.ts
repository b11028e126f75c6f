import { hostname, userInfo } from 'node:os';
import type { Actor } from '../shared/ledger/decisions.ts';

/** The CLI's decider: the OS user on this machine (docs/operations.md#decisions). */
export function cliActor(): Actor {
  let by = 'unknown';
  try {
    by = userInfo().username || by;
  } catch {
    // No passwd entry (a container's random uid): the uid alone says little, keep 'unknown'.
  }
  return { by, via: 'cli', host: hostname() };
}
