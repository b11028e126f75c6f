import { createPublicKey, verify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimEventHub } from '../../../src/simulator/ess/index.ts';
import { startScriptedServer, type ScriptedServer, type ScriptStep } from '../../helpers/scripted-server.ts';
import { identityUser, startUps, type Json, type UpsHarness } from './ups-support.ts';

const TOPIC = 'public.concur.user.provisioning';

describe('ESS subscriptions', () => {
  let h: UpsHarness;
  let appToken: string;
  beforeEach(async () => {
    h = await startUps();
    appToken = await h.started.appToken();
  });
  afterEach(async () => {
    await h.close();
  });

  const ess = (method: string, path: string, body?: unknown, token = appToken) =>
    h.call(method, `/events/v4${path}`, body, { authorization: `Bearer ${token}` });
  const sub = (id: string, extra: Json = {}): Json => ({
    id,
    topic: TOPIC,
    filter: '.*',
    webHookConfig: { endpoint: 'https://example.com/hook' },
    ...extra,
  });

  it('creates, updates, lists, reads and deletes webhook subscriptions', async () => {
    const topics = await ess('GET', '/topics');
    expect(topics.status).toBe(200);
    expect(topics.body).toContain(TOPIC);

    const saved = await ess('PUT', '/subscriptions/webhook', sub('my-company.provisioning.test.v1'));
    expect(saved).toMatchObject({
      status: 200,
      body: { message: "Subscription 'my-company.provisioning.test.v1' saved successfully" },
    });
    const updated = await ess(
      'PUT',
      '/subscriptions/webhook',
      sub('my-company.provisioning.test.v1', { filter: 'provisionCompleted' }),
    );
    expect(updated.status).toBe(200);
    // Company tokens are accepted too (lenient).
    expect((await ess('PUT', '/subscriptions/webhook', sub('second'), await h.started.companyToken())).status).toBe(
      200,
    );

    const one = await ess('GET', '/subscriptions/my-company.provisioning.test.v1');
    expect(one.body).toEqual([
      {
        id: 'my-company.provisioning.test.v1',
        topic: TOPIC,
        filter: 'provisionCompleted',
        webHookConfig: { endpoint: 'https://example.com/hook' },
        applicationId: h.started.sim.ctx.tenant.clientId,
        scope: '',
        groups: [],
        companyIds: [h.started.sim.ctx.tenant.companyId],
      },
    ]);
    expect(((await ess('GET', '/subscriptions')).body as unknown as Json[]).map((s) => s.id)).toEqual([
      'my-company.provisioning.test.v1',
      'second',
    ]);
    expect(((await ess('GET', '/subscriptions/webhook')).body as unknown as Json[]).map((s) => s.id)).toEqual([
      'my-company.provisioning.test.v1',
      'second',
    ]);

    const deleted = await ess('DELETE', '/subscriptions/second');
    expect(deleted).toMatchObject({ status: 200, body: { message: "Subscription 'second' marked for deletion" } });
    expect((await ess('GET', '/subscriptions/second')).status).toBe(404);
    expect((await ess('DELETE', '/subscriptions/second')).status).toBe(404);
  });

  it('enforces the id, topic, filter, endpoint and per-application limits', async () => {
    for (const bad of [
      sub('Upper.Case'),
      sub('has space'),
      sub('ok', { topic: 'public.unknown' }),
      sub('ok', { filter: '(' }),
      sub('ok', { webHookConfig: { endpoint: 'not a url' } }),
      { topic: TOPIC, webHookConfig: { endpoint: 'https://example.com' } },
    ]) {
      const res = await ess('PUT', '/subscriptions/webhook', bad);
      expect(res.status).toBe(400);
      expect(typeof res.body.message).toBe('string');
    }
    for (let i = 1; i <= 5; i += 1) expect((await ess('PUT', '/subscriptions/webhook', sub(`s${i}`))).status).toBe(200);
    expect((await ess('PUT', '/subscriptions/webhook', sub('s6'))).status).toBe(400);
    expect((await ess('PUT', '/subscriptions/webhook', sub('s5', { filter: 'x' }))).status).toBe(200);
    const unauth = await fetch(`${h.baseUrl}/events/v4/subscriptions`);
    expect(unauth.status).toBe(401);
    await unauth.body?.cancel();
  });
});

describe('ESS provisionCompleted delivery', () => {
  let h: UpsHarness;
  let receiver: ScriptedServer;
  let hub: SimEventHub;

  async function setup(knobs: Json, steps: ScriptStep[] = [], fallback: ScriptStep = { status: 200 }): Promise<void> {
    h = await startUps(knobs);
    hub = h.started.sim.ctx.events as SimEventHub;
    receiver = await startScriptedServer({ steps, fallback: () => fallback });
    const token = await h.started.appToken();
    const saved = await h.call(
      'PUT',
      '/events/v4/subscriptions/webhook',
      {
        id: 'pipeline.provisioning',
        topic: TOPIC,
        filter: 'provisionCompleted',
        webHookConfig: { endpoint: `${receiver.url}/webhooks/concur` },
      },
      { authorization: `Bearer ${token}` },
    );
    expect(saved.status).toBe(200);
  }

  afterEach(async () => {
    await h.close();
    await receiver.close();
  });

  const waitForRequests = (n: number): Promise<void> =>
    vi.waitFor(
      () => {
        if (receiver.requests.length < n) throw new Error(`receiver has ${receiver.requests.length} of ${n} requests`);
      },
      { timeout: 20_000, interval: 20 },
    );

  it('delivers a signed envelope whose signature verifies with the served public key, and fails when tampered', async () => {
    await setup({});
    const created = await h.call('POST', '/profile/v4/Users', identityUser('W1'));
    await waitForRequests(1);
    const [req] = receiver.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/webhooks/concur');
    const event = JSON.parse(req!.body) as Json;
    expect(event).toMatchObject({
      eventType: 'provisionCompleted',
      topic: TOPIC,
      subtopic: created.body.meta.provisionId,
      facts: {
        originator: 'com.concur.provisioning',
        provisionId: created.body.meta.provisionId,
        provisionStatusHref: created.body.meta.statusUrl,
        success: true,
      },
      groups: null,
      scopes: null,
      data: '',
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(event.timeStamp))).toBe(false);
    expect(req?.headers['concur-correlationid']).toBe(event.correlationId);
    expect(event.correlationId).toBe(created.headers.get('concur-correlationid'));

    const pemRes = await fetch(`${h.baseUrl}/_sim/public-key`);
    const pem = await pemRes.text();
    expect(pem).toContain('BEGIN PUBLIC KEY');
    expect(pem).toBe(hub.publicKeyPem);
    const key = createPublicKey(pem);
    const signature = Buffer.from(String(req?.headers['concur-signature']), 'base64');
    expect(verify('sha256', Buffer.from(req!.body), key, signature)).toBe(true);
    const tampered = req!.body.replace('"success":true', '"success":false');
    expect(tampered).not.toBe(req!.body);
    expect(verify('sha256', Buffer.from(tampered), key, signature)).toBe(false);
  });

  it('retries after a 500 from the receiver and delivers the same event', async () => {
    await setup({}, [{ status: 500 }]);
    const created = await h.call('POST', '/profile/v4/Users', identityUser('W2'));
    await waitForRequests(2);
    const [first, second] = receiver.requests;
    expect(second?.body).toBe(first?.body);
    expect(JSON.parse(second!.body).facts.provisionId).toBe(created.body.meta.provisionId);
    expect(hub.deliveries().map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([
      [1, 'retry', 500],
      [2, 'delivered', 200],
    ]);
  });

  it('does not retry other 4xx answers', async () => {
    await setup({}, [], { status: 400 });
    await h.call('POST', '/profile/v4/Users', identityUser('W3'));
    await vi.waitFor(() => {
      if (hub.deliveries().length === 0) throw new Error('no attempt yet');
    });
    expect(hub.deliveries().map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([[1, 'rejected', 400]]);
    expect(receiver.requests).toHaveLength(1);
  });

  it('sends every event twice with duplicateEventRate 1, with the same event id', async () => {
    await setup({ duplicateEventRate: 1 });
    await h.call('POST', '/profile/v4/Users', identityUser('W4'));
    await waitForRequests(2);
    const ids = receiver.requests.map((r) => (JSON.parse(r.body) as Json).id);
    expect(ids[0]).toBe(ids[1]);
    expect(receiver.requests[0]?.headers['concur-signature']).toBe(receiver.requests[1]?.headers['concur-signature']);
  });

  it('reports a timed-out request as provisionCompleted with success false', async () => {
    await setup({ processExtensions: false });
    const created = await h.call('POST', '/profile/v4/Users', identityUser('W5'));
    await h.advanceClock(121 * 60 * 1000);
    expect((await h.call('GET', created.body.meta.statusUrl)).body.status).toEqual({ completed: true, success: false });
    await waitForRequests(1);
    expect(JSON.parse(receiver.requests[0]!.body).facts).toMatchObject({
      provisionId: created.body.meta.provisionId,
      success: false,
    });
  });
});
