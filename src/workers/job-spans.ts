import { SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { Job } from 'bullmq';
import { dropKeys } from '../shared/ledger/keys.ts';
import { extensionJobSchema } from '../shared/queues/extension.ts';
import { identityJobSchema } from '../shared/queues/identity.ts';
import { statusJobSchema } from '../shared/queues/status.ts';
import type { RedisConnection } from '../shared/redis.ts';
import { ATTR, DROP_TRACE_FIELD, errorCode, linkTo, recordingSpan } from '../shared/telemetry/spans.ts';
import { entryOf, parseEntry } from './extension/keys.ts';
import type { ExtensionStore } from './extension/store.ts';

/*
 * What a job's span says about its rows (docs/operations.md#traces). BullMQ makes the span (and
 * links it to the span that enqueued the job); this adds the rows it carries and a link to the
 * ingest span of each of their drops, so a row's identity call, Bulk and status check all lead
 * back to where the row came in. Runs only while tracing is on.
 */

/** The rows a job works on (`dropId:row` entries) and what else its span should say. */
export interface JobRows {
  entries: readonly string[];
  attributes?: Attributes;
}

export type DescribeJob = (job: Job) => Promise<JobRows | undefined>;

/** An identity job names its drop and rows in its data. */
export const describeIdentityJob: DescribeJob = async (job) => {
  const data = identityJobSchema.safeParse(job.data);
  if (!data.success) return undefined;
  return { entries: data.data.rows.map((row) => entryOf(data.data.dropId, row)) };
};

/** A batch job's rows are in its batch record (a flush job has none of its own). */
export function describeExtensionJob(store: ExtensionStore): DescribeJob {
  return async (job) => {
    const data = extensionJobSchema.safeParse(job.data);
    if (!data.success || data.data.kind !== 'batch') return undefined;
    const batch = await store.getBatch(data.data.batchId);
    return batch ? { entries: batch.entries, attributes: { [ATTR.batchId]: batch.batchId } } : undefined;
  };
}

/** A status check's rows are in its provision record. */
export function describeStatusJob(store: ExtensionStore): DescribeJob {
  return async (job) => {
    const data = statusJobSchema.safeParse(job.data);
    if (!data.success) return undefined;
    const attributes = {
      [ATTR.provisionId]: data.data.provisionId,
      [ATTR.batchId]: data.data.batchId,
      [ATTR.statusChecks]: data.data.checks,
    };
    const provision = await store.getProvision(data.data.provisionId);
    return { entries: provision?.entries ?? [], attributes };
  };
}

/**
 * Puts the rows on the active job span and links it to the ingest span of every drop they belong
 * to (the ingest recorded its span context in the drop's meta). Never throws: a trace is not worth
 * a failed job.
 */
export async function annotateJobSpan(
  redis: RedisConnection,
  prefix: string,
  job: Job,
  describe: DescribeJob,
): Promise<void> {
  const span = recordingSpan();
  if (!span) return;
  try {
    const rows = await describe(job);
    if (!rows) return;
    const drops = [...new Set(rows.entries.map((e) => parseEntry(e).dropId))];
    span.setAttributes({ ...rows.attributes, [ATTR.dropIds]: drops, [ATTR.entries]: [...rows.entries] });
    const parents = await Promise.all(drops.map((d) => redis.hget(dropKeys(prefix, d).meta, DROP_TRACE_FIELD)));
    for (const [i, traceparent] of parents.entries()) {
      const link = linkTo(traceparent ?? undefined, { [ATTR.dropId]: drops[i]! });
      if (link) span.addLink(link);
    }
  } catch {
    // Redis trouble shows in the job itself; the span just says less.
  }
}

/** A failed attempt: its span says so, with the error code (`error.type`), never the message. */
export function markSpanFailed(err: unknown): void {
  const span = recordingSpan();
  if (!span) return;
  const code = errorCode(err);
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}
