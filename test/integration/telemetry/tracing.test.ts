import { Queue, UnrecoverableError } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/shared/config.ts';
import { ProvError } from '../../../src/shared/errors.ts';
import { activeTraceparent, linkTo, withSpan } from '../../../src/shared/telemetry/spans.ts';
import { startTracing, tracesUrl, tracingWanted, type Tracing } from '../../../src/shared/telemetry/tracing.ts';
import { queueKeyPrefix } from '../../../src/shared/queues/keys.ts';
import { createRuntime } from '../../../src/workers/runtime.ts';
import { startWorker } from '../../../src/workers/start-worker.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.ts';
import { deletePrefix, TEST_REDIS_URL, testRedis, uniquePrefix } from '../../helpers/redis.ts';

let receiver: OtlpReceiver | undefined;
let tracing: Tracing | undefined;

afterEach(async () => {
  await tracing?.shutdown();
  await receiver?.close();
  tracing = undefined;
  receiver = undefined;
});

describe('tracing configuration', () => {
  it('is off by default and with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none; on with an OTLP endpoint', () => {
    expect(tracingWanted(loadConfig({}))).toBe(false);
    expect(startTracing(loadConfig({}), 'test')).toMatchObject({ enabled: false, bullmq: undefined });
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingWanted(loadConfig(endpoint))).toBe(true);
    expect(tracingWanted(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }))).toBe(true);
    expect(tracingWanted(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp' }))).toBe(true);
    expect(tracingWanted(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }))).toBe(false);
    expect(tracingWanted(loadConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }))).toBe(false);
  });

  it('sends to the signal URL as given, else to the base endpoint + /v1/traces', () => {
    expect(tracesUrl(loadConfig({}))).toBe('http://localhost:4318/v1/traces');
    expect(tracesUrl(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }))).toBe('http://c:4318/v1/traces');
    expect(
      tracesUrl(
        loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' }),
      ),
    ).toBe('http://t/x');
  });

  it('refuses gRPC and a bad sampler argument, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL.*gRPC/);
    expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

describe('tracing on', () => {
  it('exports OTLP/HTTP protobuf by default, with the headers and resource attributes asked for', async () => {
    receiver = await startOtlpReceiver();
    tracing = startTracing(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
      }),
      'unit',
    );
    let traceparent: string | undefined;
    await withSpan('provision.test-span', async () => {
      traceparent = activeTraceparent();
    });
    await tracing.shutdown();
    expect(receiver.contentTypes).toEqual(['application/x-protobuf']);
    const body = receiver.rawBodies.join('');
    for (const text of ['provision.test-span', 'provision-unit', 'deployment.environment', 'test'])
      expect(body).toContain(text);
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(linkTo(traceparent)?.context.spanId).toBe(traceparent!.split('-')[2]);
  });

  it('worker jobs: a trace per job linked to the enqueuing span, no idle polling spans, failures keep their code and not their message', async () => {
    receiver = await startOtlpReceiver();
    const prefix = uniquePrefix('otel');
    const rt = createRuntime('unit-worker', 'worker', {
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    tracing = rt.tracing;
    const queue = new Queue('otel', {
      connection: rt.redis,
      prefix: queueKeyPrefix(prefix, 'otel'),
      telemetry: rt.tracing.bullmq,
    });
    let seen = 0;
    startWorker(
      rt,
      'otel',
      async (job) => {
        seen += 1;
        if (job.name === 'bad') throw new ProvError('PROV_ERR_INPUT', 'person1@example.com is not acceptable');
        if (job.name === 'worse') throw new UnrecoverableError('Given1 Family1 refused');
        return { userName: 'person2@example.com' };
      },
      { concurrency: 1 },
    );
    try {
      await withSpan('provision.enqueue', async () => {
        await queue.add('good', {});
        await queue.add('bad', {}, { attempts: 1 });
        await queue.add('worse', {}, { attempts: 1 });
      });
      const deadline = Date.now() + 10_000;
      while (seen < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Idle long enough for several polls and lock/stalled checks.
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      await queue.close();
      const cleanup = testRedis();
      await rt.shutdown.close();
      await deletePrefix(cleanup, prefix);
      cleanup.disconnect();
    }

    const spans = receiver.spans;
    const enqueue = spans.find((s) => s.name === 'provision.enqueue')!;
    const adds = spans.filter((s) => s.name.startsWith('add otel'));
    const processed = spans.filter((s) => s.name === 'process otel');
    expect(adds).toHaveLength(3);
    expect(processed).toHaveLength(3);
    for (const add of adds) expect(add).toMatchObject({ traceId: enqueue.traceId, parentSpanId: enqueue.spanId });
    for (const p of processed) {
      expect(p.parentSpanId).toBeUndefined();
      expect(p.traceId).not.toBe(enqueue.traceId);
      expect(adds.some((a) => p.links.some((l) => l.spanId === a.spanId && l.traceId === a.traceId))).toBe(true);
    }
    const byJob = (name: string) => processed.find((p) => p.attributes['bullmq.job.name'] === name)!;
    expect(byJob('good').attributes['error.type']).toBeUndefined();
    expect(byJob('bad').attributes['error.type']).toBe('PROV_ERR_INPUT');
    expect(byJob('worse').attributes['error.type']).toBe('UnrecoverableError');
    // Every span belongs to the enqueue trace or to a job's trace: no housekeeping traces.
    const traces = new Set([enqueue.traceId, ...processed.map((p) => p.traceId)]);
    expect(spans.filter((s) => !traces.has(s.traceId)).map((s) => s.name)).toEqual([]);
    const exported = receiver.rawBodies.join('\n');
    for (const secret of ['person1@example.com', 'person2@example.com', 'Given1', 'Family1'])
      expect(exported).not.toContain(secret);
  });
});
