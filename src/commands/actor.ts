import { hostname, userInfo } from 'node:os';
import { decide } from '../shared/guards/decide.ts';
import { guardsFromConfig } from '../shared/guards/limits.ts';
import type { Actor, DecisionAction } from '../shared/ledger/decisions.ts';
import type { CommandContext } from './context.ts';

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

/** A decision taken from the command line, recorded as the OS user (the same code as the HTTP routes). */
export function decideFromCli(ctx: CommandContext, dropId: string, action: DecisionAction) {
  return decide(
    { ledger: ctx.ledger, identityQueue: ctx.queues.identity, log: ctx.log, guards: guardsFromConfig(ctx.config) },
    dropId,
    action,
    cliActor(),
  );
}
