import { IDENTITY_QUEUE } from './identity.ts';
import { EXTENSION_QUEUE } from './extension.ts';
import { STATUS_QUEUE } from './status.ts';

/*
 * Where the queues' keys live. BullMQ names a queue's keys `<prefix>:<queue>:<type>`, and every
 * one of its Lua scripts touches several of them, so on Redis Cluster one queue's keys must share
 * a slot: the prefix needs a hash tag. With one tag for everything (`{prov}`), the whole pipeline
 * sits on one slot, so on one master. Each queue's keys only ever meet in one command with keys of
 * the same queue (no flows, no cross-queue scripts), so each queue can have a tag of its own and a
 * cluster can place the three queues on different masters. The ledger, the extension store, the
 * rate limiters, the token cache and the metrics hash stay under the plain prefix: their scripts
 * span many of those keys at once, and they are small next to the queues' traffic.
 */

/** The pipeline's queues, in stage order. */
export const PIPELINE_QUEUE_NAMES = [IDENTITY_QUEUE, EXTENSION_QUEUE, STATUS_QUEUE] as const;

const WHOLE_TAG = /^\{([^{}]+)\}$/;

/**
 * The BullMQ `prefix` of one queue under `QUEUE_PREFIX`. A prefix that is exactly one hash tag
 * (`{prov}`) gives each queue a tag of its own (`{prov_identity}`, `{prov_extension}`,
 * `{prov_status}`; the queue name itself is unchanged). Any other prefix is used as is: with a
 * tag inside (`app:{prov}`) every queue shares that tag's slot; without a tag the keys are not
 * cluster-safe (config refuses that on a cluster).
 *
 * Why `_`: where a tag lands is a hash, and the separator decides it for the default prefix. With
 * `_`, the three queues of `{prov}` fall on three different masters of an evenly split cluster of
 * 3 to 8 masters (what `redis-cli --cluster create` and managed services set up); with `:` two of
 * them share a master of a 3-master cluster.
 */
export function queueKeyPrefix(prefix: string, queueName: string): string {
  const tag = WHOLE_TAG.exec(prefix)?.[1];
  return tag === undefined ? prefix : `{${tag}_${queueName}}`;
}

/**
 * The key prefixes a pipeline namespace writes under: the prefix itself and, when a queue has a
 * tag of its own, that queue's keys (`{prov_identity}:identity:`). What deleting a namespace scans.
 */
export function namespaceKeyPrefixes(prefix: string): string[] {
  const own = PIPELINE_QUEUE_NAMES.map((q) => ({ q, keyPrefix: queueKeyPrefix(prefix, q) })).filter(
    (x) => x.keyPrefix !== prefix,
  );
  return [prefix, ...own.map(({ q, keyPrefix }) => `${keyPrefix}:${q}:`)];
}
