import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * What our spans say about a row (docs/operations.md#traces): drop ids, `<dropId>:<row>` entries,
 * batch and provision ids, Concur's correlation ids. Never a name, an email or a userName.
 */
export const ATTR = {
  /** The drop an ingest span read. */
  dropId: 'provision.drop.id',
  /** Rows the drop file holds (ingest). */
  dropRows: 'provision.drop.rows',
  /** What the ingest left the drop as (`running`, `held`, ...). */
  dropStatus: 'provision.drop.status',
  /** Every drop a job span touches. */
  dropIds: 'provision.drop.ids',
  /** Every row a job span touches, as `<dropId>:<row>` (row = the drop file's row number). */
  entries: 'provision.entries',
  batchId: 'provision.batch.id',
  provisionId: 'provision.provision.id',
  /** How many status checks this provision has had before this one. */
  statusChecks: 'provision.status.checks',
} as const;

/** The drop meta field holding the ingest span's W3C `traceparent`, for later stages to link to. */
export const DROP_TRACE_FIELD = 'traceparent';

const TRACER = 'provision';
/** Stored contexts are W3C whatever propagator a deployment registers. */
const w3c = new W3CTraceContextPropagator();

/**
 * Runs `fn` inside a new span (a child of the active one, if any). With tracing off the span is
 * a no-op and this costs a function call.
 */
export async function withSpan<T>(name: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      // The code only: an error message may quote Concur or the drop file.
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  return err instanceof Error ? err.name : 'Error';
}

/** The active span's W3C traceparent when it is being recorded (tracing on and sampled), else undefined. */
export function activeTraceparent(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** A span link to the span a traceparent names, or undefined when it names none. */
export function linkTo(traceparent: string | undefined, attributes?: Attributes): Link | undefined {
  if (!traceparent) return undefined;
  const sc = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter));
  if (!sc || !isSpanContextValid(sc)) return undefined;
  return { context: sc, ...(attributes ? { attributes } : {}) };
}

/** The span the current code runs in, when one is being recorded. */
export function recordingSpan(): Span | undefined {
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span : undefined;
}
