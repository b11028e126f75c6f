import {
  context as otelContext,
  createContextKey,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import type {
  Attributes as BullAttributes,
  ContextManager as BullContextManager,
  Exception as BullException,
  Span as BullSpan,
  SpanOptions as BullSpanOptions,
  Telemetry,
} from 'bullmq';
import { BullMQOtel, BullMQOTelSpan } from 'bullmq-otel';

/*
 * BullMQ's OpenTelemetry integration (its `telemetry` option with bullmq-otel), with three of our
 * rules on top (docs/operations.md#traces):
 * - a job starts a trace of its own, with a span link to the span that enqueued it, instead of
 *   becoming a child of it: a 200,000-row drop is not one endless trace;
 * - BullMQ's housekeeping outside a job (polls for the next job, lock renewals, stalled checks)
 *   makes no spans: it would be a trace a second per worker and say nothing about a row;
 * - job results and failure messages stay out of spans (they may quote Concur or the drop file):
 *   a failure keeps its error code.
 */

/** The producer span a consumer span links to, carried from fromMetadata() to startSpan(). */
const ENQUEUED_BY = createContextKey('provision.bullmq.enqueued-by');

/** Event attributes that could carry personal data. */
const DROPPED_EVENT_ATTRIBUTES = new Set(['bullmq.job.result', 'bullmq.job.failed.reason']);

class LinkingContextManager implements BullContextManager<Context> {
  private readonly base: BullContextManager<Context>;

  constructor(base: BullContextManager<Context>) {
    this.base = base;
  }

  with<A extends (...args: unknown[]) => unknown>(ctx: Context, fn: A): ReturnType<A> {
    return this.base.with(ctx, fn) as ReturnType<A>;
  }

  active(): Context {
    return this.base.active();
  }

  root(): Context {
    return ROOT_CONTEXT;
  }

  getMetadata(ctx: Context): string {
    return this.base.getMetadata(ctx);
  }

  fromMetadata(_active: Context, metadata: string): Context {
    let enqueuedBy: SpanContext | undefined;
    try {
      enqueuedBy = trace.getSpanContext(this.base.fromMetadata(ROOT_CONTEXT, metadata));
    } catch {
      // Metadata from another version or tool: the job still runs, unlinked.
    }
    return enqueuedBy && isSpanContextValid(enqueuedBy) ? ROOT_CONTEXT.setValue(ENQUEUED_BY, enqueuedBy) : ROOT_CONTEXT;
  }
}

/** Keeps personal data out of what BullMQ records on a span. */
class SanitizedSpan implements BullSpan<Context> {
  private readonly inner: BullSpan<Context>;

  constructor(inner: BullSpan<Context>) {
    this.inner = inner;
  }

  setSpanOnContext(ctx: Context): Context {
    return this.inner.setSpanOnContext(ctx);
  }

  setAttribute(key: string, value: Parameters<BullSpan['setAttribute']>[1]): void {
    this.inner.setAttribute(key, value);
  }

  setAttributes(attributes: BullAttributes): void {
    this.inner.setAttributes(attributes);
  }

  addEvent(name: string, attributes?: BullAttributes): void {
    if (!attributes) return this.inner.addEvent(name);
    const kept = Object.fromEntries(Object.entries(attributes).filter(([k]) => !DROPPED_EVENT_ATTRIBUTES.has(k)));
    this.inner.addEvent(name, kept);
  }

  recordException(exception: BullException): void {
    const e = typeof exception === 'string' ? { name: 'Error' } : exception;
    const code = e.code ?? e.name ?? 'Error';
    this.inner.recordException({ name: e.name ?? 'Error', code, message: String(code) });
  }

  end(): void {
    this.inner.end();
  }
}

const NOT_RECORDED = new BullMQOTelSpan(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));

/** The `telemetry` option for every Queue and Worker of a process whose tracing is on. */
export function bullmqTelemetry(version?: string): Telemetry<Context> {
  const base = new BullMQOtel({ tracerName: 'bullmq', ...(version ? { version } : {}) });
  const contextManager = new LinkingContextManager(base.contextManager as BullContextManager<Context>);
  return {
    contextManager,
    tracer: {
      startSpan(name: string, options?: BullSpanOptions, ctx?: Context): BullSpan<Context> {
        const kind = options?.kind ?? SpanKind.INTERNAL;
        const enqueuedBy = ctx?.getValue(ENQUEUED_BY) as SpanContext | undefined;
        if (enqueuedBy) {
          const otelOptions = { kind, root: true, links: [{ context: enqueuedBy }] };
          return new SanitizedSpan(base.tracer.startSpan(name, otelOptions, ROOT_CONTEXT) as BullSpan<Context>);
        }
        const parent = ctx ?? otelContext.active();
        if (kind === SpanKind.INTERNAL && !trace.getSpan(parent)?.isRecording()) return NOT_RECORDED;
        return new SanitizedSpan(base.tracer.startSpan(name, { kind }, parent) as BullSpan<Context>);
      },
    },
  };
}
