import type { RedisDurability } from '../redis-durability.ts';
import type { Ledger } from './ledger.ts';

/*
 * A drop id someone still holds (a status query, the page, the watcher's sidecar, the ledger's
 * own list) whose keys are gone from Redis is reported as lost, never skipped in silence
 * (docs/operations.md#redis-durability).
 */

export interface LostDrop {
  dropId: string;
  status: 'lost';
  /** Whether traces of it remain in Redis (its id still listed, some keys): it surely existed. */
  traces: boolean;
  /** What happened and what to do, in one line. */
  reason: string;
}

/** Why the ledger has no drop `dropId`, with Redis's durability problems when they explain it. */
export async function lostDrop(
  ledger: Ledger,
  dropId: string,
  durability?: () => Promise<RedisDurability>,
): Promise<LostDrop> {
  const traces = await ledger.hasTracesOf(dropId);
  const problems = durability
    ? await durability().then(
        (d) => d.problems,
        () => [],
      )
    : [];
  const cause = problems.length > 0 ? ` Redis now: ${problems.join('; ')}.` : ' Check Redis durability (/readyz).';
  const reason = traces
    ? `drop ${dropId} lost: the ledger still lists it but its keys are gone from Redis (evicted, or a restart without persistence); its rows are not followed any more.${cause} Submit the file again.`
    : `drop ${dropId} lost or unknown: the ledger has no trace of it. If it was submitted, Redis lost its keys (a restart without persistence, or eviction) or it was pruned; else check the id (\`provision status\` lists the drops).${cause}`;
  return { dropId, status: 'lost', traces, reason };
}
