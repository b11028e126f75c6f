import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/demo/processes.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack | undefined;
let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await stack?.stop();
  await receiver?.close();
  stack = undefined;
  receiver = undefined;
});

const CONSUMER = 5;
const CLIENT = 3;

const linksTo = (span: ReceivedSpan, target: ReceivedSpan) =>
  span.links.some((l) => l.traceId === target.traceId && l.spanId === target.spanId);
const inTrace = (spans: ReceivedSpan[], root: ReceivedSpan) => spans.filter((s) => s.traceId === root.traceId);

describe('traces per row (OpenTelemetry over OTLP/HTTP)', () => {
  it(
    "finds one row's ingest, identity call, Bulk and status check in four processes, linked, with no personal data",
    { timeout: 120_000 },
    async () => {
      receiver = await startOtlpReceiver();
      stack = await startStack({
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
      });
      const spend = {
        'spend.country': 'US',
        'spend.reimbursementCurrency': 'USD',
        'spend.locale': 'en-US',
        'spend.roles': 'EXP_USER',
      };
      const people = Array.from({ length: 6 }, (_, i) => person(i + 1, spend));
      const ingest = await runCli(['ingest', writeCsvDrop(people), '--wait', '--json'], stack.env);
      const summary = JSON.parse(ingest.stdout.trim() || '{}') as { dropId: string; states: Record<string, number> };
      expect(summary.states?.done, ingest.stderr + (await stack.logs())).toBe(6);
      // A graceful stop flushes every worker's last spans.
      await stack.stop();
      stack = undefined;
      const spans = receiver.spans;
      const entry = `${summary.dropId}:3`;
      const carries = (s: ReceivedSpan) => (s.attributes['provision.entries'] as string[] | undefined)?.includes(entry);

      const ingestSpan = spans.find((s) => s.name === 'provision.ingest');
      expect(ingestSpan, JSON.stringify(spans.map((s) => s.name))).toMatchObject({
        service: 'provision-ingest',
        attributes: {
          'provision.drop.id': summary.dropId,
          'provision.drop.rows': 6,
          'provision.drop.status': 'running',
        },
      });

      const identity = spans.find((s) => s.name === 'process identity' && carries(s));
      const bulk = spans.find((s) => s.name === 'process extension' && carries(s));
      const checks = spans.filter((s) => s.name === 'process status' && carries(s));
      expect(identity?.service).toBe('provision-identity-worker');
      expect(bulk?.service).toBe('provision-extension-worker');
      expect(checks.length).toBeGreaterThan(0);
      for (const s of [identity!, bulk!, ...checks]) {
        expect(s.kind).toBe(CONSUMER);
        // A trace of its own, linked (not parented) to the row's ingest span.
        expect(s.parentSpanId).toBeUndefined();
        expect(s.traceId).not.toBe(ingestSpan!.traceId);
        expect(linksTo(s, ingestSpan!), JSON.stringify(s.links)).toBe(true);
        expect(s.attributes['provision.drop.ids']).toEqual([summary.dropId]);
      }
      expect(new Set([identity!.traceId, bulk!.traceId, ...checks.map((c) => c.traceId)]).size).toBe(2 + checks.length);
      // The identity job was enqueued by the ingest's addBulk; the status check by the Bulk's job.
      const addBulk = spans.find((s) => s.name === 'addBulk identity' && s.traceId === ingestSpan!.traceId);
      expect(addBulk?.parentSpanId).toBe(ingestSpan!.spanId);
      expect(linksTo(identity!, addBulk!)).toBe(true);
      const addStatus = inTrace(spans, bulk!).find((s) => s.name.startsWith('add status'));
      expect(checks.some((c) => linksTo(c, addStatus!))).toBe(true);
      // The check that settled the row names its provision and batch.
      expect(checks.at(-1)!.attributes['provision.provision.id']).toEqual(expect.any(String));
      expect(checks.at(-1)!.attributes['provision.batch.id']).toBe(bulk!.attributes['provision.batch.id']);

      // Concur calls are undici's spans inside each trace, with Concur's correlation id.
      const calls = (root: ReceivedSpan) => inTrace(spans, root).filter((s) => s.kind === CLIENT);
      const correlation = (s: ReceivedSpan) => s.attributes['http.response.header.concur-correlationid'];
      expect(calls(identity!).map((s) => s.attributes['url.path'])).toContain('/profile/identity/v4.1/Users');
      expect(calls(bulk!).map((s) => s.attributes['url.path'])).toContain('/profile/v4/Bulk');
      expect(calls(checks.at(-1)!).map((s) => s.attributes['url.path'])).toContain(
        '/profile/v4/provisions/{id}/status',
      );
      for (const c of [...calls(identity!), ...calls(bulk!), ...calls(checks.at(-1)!)])
        expect(correlation(c)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);

      // Nothing a person could be recognised by: no userName, email, name, nor a Concur user id.
      const exported = receiver.rawBodies.join('\n');
      for (const p of people)
        for (const value of [p.userName, p.email, p.givenName, p.familyName]) expect(exported).not.toContain(value);
      expect(exported).not.toMatch(/\/Users\/[0-9a-f]{8}-/);
    },
  );
});
