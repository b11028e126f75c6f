import { EXTENSION_QUEUE } from './queues/extension.ts';
import { IDENTITY_QUEUE } from './queues/identity.ts';
import { NOTIFY_QUEUE } from './queues/notify.ts';
import { STATUS_QUEUE } from './queues/status.ts';

/*
 * Every Redis key name the pipeline uses is built here (docs/redis-keys.md renders its table from
 * `redisKeyTable`). The ledger's builders (`dropKeys`, `dropIndexKey`) are for src/shared/ledger/
 * alone: a test fails when another module imports them, so only the ledger writes row state.
 *
 * Everything but the queues lives under the plain prefix (`{prov}` by default): the ledger's, the
 * provision store's and the rate limiters' scripts span many of those keys at once, so they share
 * the prefix's hash tag and one cluster slot. Each queue has a tag of its own (see queueKeyPrefix).
 */

/** The shape of every drop id (16 hex characters today; a little wider for what may come): never a `:`. */
export const DROP_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isDropId(value: unknown): value is string {
  return typeof value === 'string' && DROP_ID_PATTERN.test(value);
}

/** The ledger's keys of one drop. */
export interface DropKeys {
  /** Hash: drop metadata (file, checksum, rows, status, timings). */
  meta: string;
  /** Hash: state -> row count, plus `_terminal` and `code:<CODE>` (failed rows per error code). */
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
  /** Prefix of the compressed pages of a finished drop's rows (see ledger/pages.ts). */
  pagePrefix: string;
  /** Set: rows that re-activated a person (counted once each by the deactivation guard). */
  reactivated: string;
  /** List: the decisions taken on the drop (approve, cancel, pause, resume, run), oldest first. */
  decisions: string;
}

function ledgerRoot(prefix: string): string {
  return `${prefix}:ledger`;
}

/** Sorted set: drop id by creation time (the ledger's list of drops). For src/shared/ledger/ only. */
export function dropIndexKey(prefix: string): string {
  return `${ledgerRoot(prefix)}:drops`;
}

/** The ledger's keys of one drop. For src/shared/ledger/ only. */
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
    reactivated: `${base}:react`,
    decisions: `${base}:decisions`,
  };
}

/** The extension and status stages' keys: what waits for a batch, batches, provisions. */
export interface ProvisionKeys {
  /** List of `dropId:row` entries whose identity is in place, waiting for a batch. */
  ready: string;
  /** Flush generation: a flush increments it before it cuts the list (see provisions/handoff.ts). */
  flushGen: string;
  /** List of `endSeq:time` marks: when the ready list's entries were pushed (lua/ready-marks.lua). */
  readyMarks: string;
  /** Hash `pushed`, `cut`: entries ever pushed to and cut off the ready list, for its marks. */
  readySeq: string;
  /** Batch id sequence. */
  batchSeq: string;
  /** Hash batchId -> JSON { entries, createdAt, provisions }. Deleted once the batch is sent. */
  batches: string;
  /** Sorted set batchId -> createdAt of batches not yet fully sent (the sweep re-enqueues them). */
  unsent: string;
  /** Hash provisionId -> JSON { batchId, entries, submittedAt }. Deleted once its rows settled. */
  provisions: string;
  /** Hash provisionId -> id of its current (delayed) status job, for the webhook to promote. */
  statusJobs: string;
  /** Prefix of webhook event-id de-duplication keys. */
  eventPrefix: string;
  /** Prefix of the marks of completion events that came before their provision was recorded. */
  earlyEventPrefix: string;
}

export function provisionKeys(prefix: string): ProvisionKeys {
  const base = `${prefix}:ext`;
  return {
    ready: `${base}:ready`,
    flushGen: `${base}:flushgen`,
    readyMarks: `${base}:ready:marks`,
    readySeq: `${base}:ready:seq`,
    batchSeq: `${base}:batchseq`,
    batches: `${base}:batches`,
    unsent: `${base}:unsent`,
    provisions: `${base}:prov`,
    statusJobs: `${base}:statusjob`,
    eventPrefix: `${base}:event:`,
    earlyEventPrefix: `${base}:event:early:`,
  };
}

/** Hash: the shared rate limiter of one Concur API family (`identity`, `ups`). */
export function rateLimitKey(prefix: string, api: string): string {
  return `${prefix}:ratelimit:${api}`;
}

/** Hash: Concur call counters and latencies every worker process adds to (read by /metrics). */
export function concurMetricsKey(prefix: string): string {
  return `${prefix}:metrics:concur`;
}

/** Hash: the shared OAuth token of one Concur client and company. */
export function tokenKey(prefix: string, clientId: string, companyId: string): string {
  return `${prefix}:concur:token:${clientId}:${companyId}`;
}

/** String: the lock one process holds while it refreshes the token. */
export function tokenLockKey(prefix: string, clientId: string, companyId: string): string {
  return `${tokenKey(prefix, clientId, companyId)}:lock`;
}

/** Hash: Concur refuses every credential we hold (code, message, since when), until a token is written. */
export function tokenRefusedKey(prefix: string, clientId: string, companyId: string): string {
  return `${tokenKey(prefix, clientId, companyId)}:refused`;
}

/** Prefix of one company's recent writes: `<prefix>:<uuid>` holds the version Concur answered, for CONFLICT_RESOLVE_MAX_MS. */
export function recentWritesKey(prefix: string, companyId: string): string {
  return `${prefix}:identity:recent:${companyId}`;
}

/** String: one recently written user under a company's recent-writes prefix. */
export function recentWriteKey(recentWritesPrefix: string, uuid: string): string {
  return `${recentWritesPrefix}:${uuid}`;
}

/**
 * Hash: one bucket of a company's people (by uuid) -> the as-of time (epoch ms) of the last drop
 * applied to them and when that entry expires (docs/safety.md#an-older-drop-never-undoes-a-newer-one).
 * `shared/identity/as-of.ts` picks a person's bucket; small buckets keep Redis's compact encoding.
 */
export function personAsOfBucketKey(prefix: string, companyId: string, bucket: number | string): string {
  return `${prefix}:identity:asof:${companyId}:bucket:${bucket}`;
}

/**
 * String (TTL): one person's as-of as versions before the buckets kept it. Still read, and moved
 * into the person's bucket by their next claim, until the last of them expires.
 */
export function legacyPersonAsOfKey(prefix: string, companyId: string, uuid: string): string {
  return `${prefix}:identity:asof:${companyId}:${uuid}`;
}

/** String: held by the one identity worker compacting finished drops. */
export function compactionLockKey(prefix: string): string {
  return `${ledgerRoot(prefix)}:compact-lock`;
}

/** String: held by the one identity worker checking for stranded rows. */
export function repairLockKey(prefix: string): string {
  return `${prefix}:identity:repair-lock`;
}

/** String: held by the one status worker sweeping for status checks that are gone. */
export function statusSweepLockKey(prefix: string): string {
  return `${prefix}:ext:status-sweep-lock`;
}

/** Hash (TTL): event key -> when a notification of this drop's event was enqueued (sent once per event). */
export function notifiedKey(prefix: string, dropId: string): string {
  return `${prefix}:notify:sent:${dropId}`;
}

/** String: epoch ms from which drop events are notified (set once: older events are never announced). */
export function notifySinceKey(prefix: string): string {
  return `${prefix}:notify:since`;
}

/** The pipeline's queues, in stage order. */
export const PIPELINE_QUEUE_NAMES = [IDENTITY_QUEUE, EXTENSION_QUEUE, STATUS_QUEUE] as const;

const WHOLE_TAG = /^\{([^{}]+)\}$/;

/*
 * Where the queues' keys live. BullMQ names a queue's keys `<prefix>:<queue>:<type>`, and every
 * one of its Lua scripts touches several of them, so on Redis Cluster one queue's keys must share
 * a slot: the prefix needs a hash tag. With one tag for everything (`{prov}`), the whole pipeline
 * sits on one slot, so on one master. Each queue's keys only ever meet in one command with keys of
 * the same queue (no flows, no cross-queue scripts), so each queue can have a tag of its own and a
 * cluster can place the three queues on different masters.
 */

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
  const own = [...PIPELINE_QUEUE_NAMES, NOTIFY_QUEUE]
    .map((q) => ({ q, keyPrefix: queueKeyPrefix(prefix, q) }))
    .filter((x) => x.keyPrefix !== prefix);
  return [prefix, ...own.map(({ q, keyPrefix }) => `${keyPrefix}:${q}:`)];
}

/** One row of docs/redis-keys.md. */
export interface RedisKeyDoc {
  key: string;
  type: string;
  /** The one module that writes it. */
  writer: string;
  what: string;
}

/** Every key the pipeline uses, as docs/redis-keys.md lists them (a test keeps the two in step). */
export function redisKeyTable(prefix = '{prov}'): RedisKeyDoc[] {
  const d = dropKeys(prefix, '<drop>');
  const p = provisionKeys(prefix);
  const ledger = 'ledger (`shared/ledger/`)';
  const store = 'provision store (`shared/provisions/`)';
  return [
    { key: dropIndexKey(prefix), type: 'sorted set', writer: ledger, what: 'drop ids by creation time' },
    { key: d.meta, type: 'hash', writer: ledger, what: 'drop metadata: file, checksum, rows, status, reason, timings' },
    {
      key: d.counts,
      type: 'hash',
      writer: ledger,
      what: 'rows per state, `_terminal`: progress in O(1); `code:<CODE>`: failed rows per error code (for the failure brake)',
    },
    { key: d.rows, type: 'hash', writer: ledger, what: 'row number → state' },
    {
      key: d.data,
      type: 'hash',
      writer: ledger,
      what: 'row number → the normalized record, until it is no longer needed',
    },
    { key: d.out, type: 'hash', writer: ledger, what: 'row number → outcome: uuid, action, provision id, error' },
    {
      key: d.emp,
      type: 'hash',
      writer: ledger,
      what: 'employeeNumber / userName → row, and deferred rows → the row they wait for',
    },
    { key: `${d.waitersPrefix}<row>`, type: 'set', writer: ledger, what: "rows waiting for this row's uuid" },
    { key: d.plan, type: 'hash', writer: ledger, what: 'row number → planned action (`ingest --plan`)' },
    {
      key: d.reactivated,
      type: 'set',
      writer: ledger,
      what: 'rows that re-activated a person: counted once each by the deactivation guard',
    },
    {
      key: `${d.pagePrefix}<n>`,
      type: 'string',
      writer: ledger,
      what: "a finished drop's rows 1000n+1…1000(n+1), compressed",
    },
    {
      key: d.decisions,
      type: 'list',
      writer: ledger,
      what: 'decisions taken on the drop (approve, cancel, pause, resume, run): who, when, from where',
    },
    { key: p.ready, type: 'list', writer: store, what: '`dropId:row` entries waiting for an extension batch' },
    { key: p.flushGen, type: 'string', writer: store, what: 'flush generation (one flush job per generation)' },
    {
      key: p.readyMarks,
      type: 'list',
      writer: store,
      what: "`endSeq:time` marks: when the ready entries were pushed (a partial batch waits for its first row's linger)",
    },
    {
      key: p.readySeq,
      type: 'hash',
      writer: store,
      what: 'entries ever pushed to and cut off the ready list (`pushed`, `cut`)',
    },
    { key: p.batchSeq, type: 'string', writer: store, what: 'batch id sequence' },
    {
      key: p.batches,
      type: 'hash',
      writer: `${store}; the ledger adds provision ids`,
      what: 'batch id → entries, creation time, provision ids; until sent',
    },
    { key: p.unsent, type: 'sorted set', writer: store, what: 'batches not fully sent, by creation time (the sweep)' },
    {
      key: p.provisions,
      type: 'hash',
      writer: `ledger (on submission); ${store} forgets`,
      what: 'provision id → batch, entries, submission time; until its rows settle',
    },
    { key: p.statusJobs, type: 'hash', writer: store, what: 'provision id → its current status job (for the webhook)' },
    {
      key: `${p.earlyEventPrefix}<provisionId>`,
      type: 'string (TTL)',
      writer: store,
      what: 'a completion event that came before its provision was recorded',
    },
    {
      key: `${p.eventPrefix}<eventId>`,
      type: 'string (TTL)',
      writer: store,
      what: 'a webhook event id already handled',
    },
    {
      key: rateLimitKey(prefix, '<api>'),
      type: 'hash',
      writer: 'rate limiter (`shared/rate/`)',
      what: 'token bucket, Retry-After block, last 429 and the adaptive controller of `identity` / `ups`',
    },
    {
      key: tokenKey(prefix, '<client>', '<company>'),
      type: 'hash',
      writer: 'token store (`shared/concur/token-cache.ts`)',
      what: 'the OAuth access and refresh token every process shares',
    },
    {
      key: tokenLockKey(prefix, '<client>', '<company>'),
      type: 'string (TTL)',
      writer: 'token store',
      what: 'held while one process refreshes the token',
    },
    {
      key: concurMetricsKey(prefix),
      type: 'hash',
      writer: 'call metrics (`shared/metrics/`)',
      what: 'Concur calls, latencies and retries, summed over every process',
    },
    {
      key: personAsOfBucketKey(prefix, '<company>', '<n>'),
      type: 'hash',
      writer: 'identity worker (`shared/identity/as-of.ts`); the compaction chore prunes',
      what: 'person uuid → as-of time of the last drop applied to them and when that expires, in 1,024 buckets by uuid; an older drop writes nothing (about 80 B a person)',
    },
    {
      key: legacyPersonAsOfKey(prefix, '<company>', '<uuid>'),
      type: 'string (TTL)',
      writer: 'versions before the buckets; the identity worker moves it into the bucket',
      what: "a person's as-of as earlier versions kept it: still honoured until it expires",
    },
    {
      key: compactionLockKey(prefix),
      type: 'string (TTL)',
      writer: 'identity worker',
      what: 'held by the one process compacting finished drops',
    },
    {
      key: repairLockKey(prefix),
      type: 'string (TTL)',
      writer: 'identity worker',
      what: 'held by the one process checking for stranded rows',
    },
    {
      key: statusSweepLockKey(prefix),
      type: 'string (TTL)',
      writer: 'status worker',
      what: 'held by the one process sweeping for status checks that are gone',
    },
    {
      key: notifiedKey(prefix, '<drop>'),
      type: 'hash (TTL)',
      writer: 'notifier (`shared/notify/`)',
      what: "the drop's events already handed to the notify queue (each is announced once)",
    },
    {
      key: notifySinceKey(prefix),
      type: 'string',
      writer: 'notifier (`shared/notify/`)',
      what: 'when notifications were first on: older events are never announced',
    },
    ...PIPELINE_QUEUE_NAMES.map((q) => ({
      key: `${queueKeyPrefix(prefix, q)}:${q}:…`,
      type: 'BullMQ',
      writer: 'BullMQ',
      what: `the ${q} queue's jobs, events and locks`,
    })),
    {
      key: `${queueKeyPrefix(prefix, NOTIFY_QUEUE)}:${NOTIFY_QUEUE}:…`,
      type: 'BullMQ',
      writer: 'BullMQ',
      what: 'the notify queue: one job per drop event and target (docs/operations.md#notifications)',
    },
  ];
}
