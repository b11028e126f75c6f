import { hostname } from 'node:os';
import { context, propagation, trace } from '@opentelemetry/api';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { UndiciInstrumentation, type UndiciRequest } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Telemetry } from 'bullmq';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { endpointOf } from '../metrics/concur-calls.ts';
import { bullmqTelemetry } from './bullmq.ts';

export type TracingConfig = Pick<
  Config,
  | 'OTEL_SDK_DISABLED'
  | 'OTEL_TRACES_EXPORTER'
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_HEADERS'
  | 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_RESOURCE_ATTRIBUTES'
  | 'OTEL_TRACES_SAMPLER'
  | 'OTEL_TRACES_SAMPLER_ARG'
>;

export interface Tracing {
  enabled: boolean;
  /** BullMQ's `telemetry` option for this process's queues and workers (undefined when off). */
  bullmq: Telemetry | undefined;
  /** Flushes the spans still buffered and stops tracing (idempotent). */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, bullmq: undefined, shutdown: async () => {} };

/** The one provider of this process: a second startTracing() (tests in one process) reuses it. */
let active: Tracing | undefined;

/**
 * Tracing is off unless an OTLP endpoint is configured or `OTEL_TRACES_EXPORTER=otlp` asks for the
 * default one (localhost:4318); `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep it off.
 */
export function tracingWanted(config: TracingConfig): boolean {
  if (config.OTEL_SDK_DISABLED || config.OTEL_TRACES_EXPORTER === 'none') return false;
  return (
    config.OTEL_TRACES_EXPORTER === 'otlp' ||
    config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined
  );
}

/** Where spans go: the signal URL as given, or the base endpoint + `/v1/traces` (OTLP spec). */
export function tracesUrl(config: TracingConfig): string {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

export function samplerFor(config: TracingConfig): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG ?? 1);
  switch (config.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Concur call spans from undici's diagnostics channels (the instrumentation, not hand-made spans),
 * only inside a job or ingest span, with the `concur-correlationid` both ways and ids in paths
 * replaced by `{id}` (a user's uuid stays out of traces, as in the metrics' endpoint label).
 */
function undiciInstrumentation(): UndiciInstrumentation {
  return new UndiciInstrumentation({
    requireParentforSpans: true,
    headersToSpanAttributes: {
      requestHeaders: ['concur-correlationid'],
      responseHeaders: ['concur-correlationid'],
    },
    startSpanHook: (request: UndiciRequest) => {
      const path = endpointOf(request.path.split('?')[0] ?? '/');
      return { 'url.full': `${request.origin}${path}`, 'url.path': path, 'url.query': '' };
    },
  });
}

/**
 * Starts OpenTelemetry tracing for this process when the configuration asks for it
 * (docs/operations.md#traces). `role` names the service unless OTEL_SERVICE_NAME does.
 */
export function startTracing(config: TracingConfig, role: string, log?: Logger): Tracing {
  if (!tracingWanted(config)) return OFF;
  if (active) return active;
  const protocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL;
  const headers = {
    ...parseKeyPairsIntoRecord(config.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyPairsIntoRecord(config.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  const url = tracesUrl(config);
  const exporter =
    protocol === 'http/json' ? new OtlpJsonExporter({ url, headers }) : new OtlpProtobufExporter({ url, headers });
  const resource = resourceFromAttributes({
    ...parseKeyPairsIntoRecord(config.OTEL_RESOURCE_ATTRIBUTES),
    'service.name': config.OTEL_SERVICE_NAME ?? `provision-${role}`,
    'service.namespace': 'provision',
    'host.name': hostname(),
    'process.pid': process.pid,
  });
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerFor(config),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  // Enabled on construction, on the provider just registered.
  const undici = undiciInstrumentation();
  log?.info({ url, protocol, sampler: config.OTEL_TRACES_SAMPLER }, 'tracing on');

  let stopping: Promise<void> | undefined;
  const tracing: Tracing = {
    enabled: true,
    bullmq: bullmqTelemetry(),
    shutdown: () =>
      (stopping ??= (async () => {
        undici.disable();
        await provider.shutdown().catch((err: unknown) => log?.warn({ err }, 'could not flush the last spans'));
        // Unregister the globals, so a later startTracing() in this process (tests) can register again.
        trace.disable();
        context.disable();
        propagation.disable();
        active = undefined;
      })()),
  };
  active = tracing;
  return tracing;
}
