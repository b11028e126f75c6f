import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/demo/processes.ts';
import { buildWebhookApp, WEBHOOK_PATH } from '../../../src/server/webhook.ts';
import { createEventSigner } from '../../../src/simulator/ess/signer.ts';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createQueues } from '../../../src/shared/queues/index.ts';
import { createRedis } from '../../../src/shared/redis.ts';
import { ExtensionStore } from '../../../src/workers/extension/store.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../helpers/redis.ts';
import { basic } from '../../helpers/server.ts';
import { PROCESS_AUTH, startServerProcess, type ServerProcess } from '../../helpers/server-process.ts';

/*
 * The server under attack, as a real `provision serve` process over HTTP on real Redis: forged
 * cross-site requests, garbage uploads, replayed webhooks, slow clients, password guessing, and
 * the headers every answer carries. docs/security.md.
 */

const redis = createRedis(TEST_REDIS_URL, 'producer');
const prefixes: string[] = [];
const servers: ServerProcess[] = [];
const signer = createEventSigner();
const CSV = 'userName,givenName,familyName,email,employeeNumber\n';
const person = (i: number): string => `p${i}@example.com,Given,Family,p${i}@example.com,E${i}\n`;

async function serve(env: Record<string, string> = {}): Promise<{ s: ServerProcess; ledger: Ledger; prefix: string }> {
  const prefix = uniquePrefix('hostile-srv');
  prefixes.push(prefix);
  const s = await startServerProcess(prefix, {
    WEBHOOK_PUBLIC_KEY: signer.publicKeyPem.replace(/\n/g, '\\n'),
    ...env,
  });
  servers.push(s);
  return { s, ledger: new Ledger(redis, prefix), prefix };
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
});

describe('cross-site request forgery', () => {
  let s: ServerProcess;
  let ledger: Ledger;
  let prefix: string;
  beforeAll(async () => ({ s, ledger, prefix } = await serve()));

  const upload = (headers: Record<string, string | undefined>, body = `${CSV}${person(1)}`): Promise<Response> =>
    fetch(`${s.url}/drops?filename=people.csv`, {
      method: 'POST',
      body,
      headers: { authorization: s.auth, ...headers } as Record<string, string>,
    });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x'])(
    'a cross-site %s post (as a hostile page makes, with the saved login) gets 403 and no drop',
    async (type) => {
      for (const from of [
        { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        { origin: 'null' },
        { 'sec-fetch-site': 'same-site' },
        {},
      ]) {
        const res = await upload({ 'content-type': type, ...from }, `${CSV}${person(2)}`);
        expect(res.status, `${type} ${JSON.stringify(from)}`).toBe(403);
        expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/cross-site|content type/);
      }
      expect(await ledger.listDrops(10)).toEqual([]);
    },
  );

  it('a cross-site post is refused whatever content type it claims', async () => {
    for (const headers of [
      { 'content-type': 'text/csv', 'sec-fetch-site': 'cross-site' },
      { 'content-type': 'application/octet-stream', origin: 'http://127.0.0.1.evil.example' },
      { 'content-type': 'application/json', origin: 'null' },
    ]) {
      const res = await upload(headers, `${CSV}${person(3)}`);
      expect(res.status, JSON.stringify(headers)).toBe(403);
    }
    expect(await ledger.listDrops(10)).toEqual([]);
  });

  it("Bull Board's state-changing routes go through the same check: a cross-site PUT does not pause a queue", async () => {
    const res = await fetch(`${s.url}/admin/queues/api/queues/identity/pause`, {
      method: 'PUT',
      headers: { authorization: s.auth, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    const queues = createQueues(redis, prefix);
    try {
      expect(await queues.identity.isPaused()).toBe(false);
    } finally {
      await queues.close();
    }
  });

  it('scripts (no Origin) with a file content type, and the page itself (same origin), still upload', async () => {
    const script = await upload({ 'content-type': 'text/csv' }, `${CSV}${person(4)}`);
    expect(script.status).toBe(201);
    const page = await upload(
      { 'content-type': 'application/octet-stream', origin: s.url, 'sec-fetch-site': 'same-origin' },
      `${CSV}${person(5)}`,
    );
    expect(page.status).toBe(201);
    expect(await ledger.listDrops(10)).toHaveLength(2);
  });
});

describe('uploads of garbage are capped (MAX_DROP_ROWS, MAX_INVALID_PERCENT)', () => {
  let s: ServerProcess;
  let ledger: Ledger;
  beforeAll(async () => ({ s, ledger } = await serve({ MAX_DROP_ROWS: '100', MAX_INVALID_PERCENT: '20' })));

  const post = (body: string): Promise<Response> =>
    fetch(`${s.url}/drops?filename=up.csv`, {
      method: 'POST',
      body,
      headers: { authorization: s.auth, 'content-type': 'text/csv' },
    });

  async function expectRejectedAndEmpty(res: Response, message: RegExp): Promise<void> {
    expect(res.status).toBe(400);
    const text = ((await res.json()) as { error: { message: string } }).error.message;
    expect(text, text).toMatch(message);
    const [id] = await ledger.listDrops(1);
    expect((await ledger.getDrop(id!))?.meta.status).toBe('rejected');
    const k = ledger.keys(id!);
    expect([await redis.hlen(k.rows), await redis.hlen(k.out), await redis.hlen(k.data)]).toEqual([0, 0, 0]);
  }

  it('a file with more rows than MAX_DROP_ROWS is rejected, and none of its rows stay in Redis', async () => {
    const rows = Array.from({ length: 101 }, (_, i) => person(i)).join('');
    await expectRejectedAndEmpty(await post(`${CSV}${rows}`), /up\.csv: has more than MAX_DROP_ROWS=100 rows/);
  });

  it('garbage is rejected as soon as its invalid share passes MAX_INVALID_PERCENT, long before its end', async () => {
    const garbage = Array.from({ length: 50_000 }, (_, i) => `x${i},,,,\n`).join('');
    await expectRejectedAndEmpty(
      await post(`${CSV}${person(0)}${garbage}`),
      /has \d+ invalid rows in its first \d{2} \(\d+%\), more than MAX_INVALID_PERCENT=20%/,
    );
  });
});

describe('webhooks', () => {
  let s: ServerProcess;
  beforeAll(async () => ({ s } = await serve()));

  const event = (timeStamp: string, id = randomUUID()): string =>
    JSON.stringify({
      id,
      eventType: 'provisionCompleted',
      topic: 'public.concur.user.provisioning',
      timeStamp,
      facts: { provisionId: `prov-${id}` },
    });
  const deliver = (body: string, type = 'application/json'): Promise<Response> =>
    fetch(`${s.url}${WEBHOOK_PATH}`, {
      method: 'POST',
      body,
      headers: { 'content-type': type, 'concur-signature': signer.sign(body) },
    });

  it('refuses a correctly signed event whose timeStamp is outside WEBHOOK_MAX_AGE_MS (a replayed capture)', async () => {
    const old = await deliver(event(new Date(Date.now() - 5 * 24 * 3600 * 1000).toISOString()));
    expect(old.status).toBe(400);
    expect(((await old.json()) as { outcome: string }).outcome).toBe('stale');
    const future = await deliver(event(new Date(Date.now() + 2 * 3600 * 1000 + 73 * 3600 * 1000).toISOString()));
    expect(future.status).toBe(400);
    const fresh = await deliver(event(new Date().toISOString()));
    expect(fresh.status).toBe(200);
  });

  it.each(['text/plain', 'application/octet-stream', 'application/cloudevents+json'])(
    'accepts a correctly signed body sent as %s',
    async (type) => {
      const res = await deliver(event(new Date().toISOString()), type);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outcome: string }).outcome).toBe('early');
    },
  );

  it('marks an event seen only once it was handled: a server dying mid-event still handles the retry', async () => {
    const prefix = uniquePrefix('hostile-hook');
    prefixes.push(prefix);
    const log = createLogger({ level: 'silent' });
    const store = new ExtensionStore(redis, prefix);
    const queues = createQueues(redis, prefix);
    const apps: FastifyInstance[] = [];
    try {
      // First server: it dies while handling (its store hangs, as a process killed there would).
      const hanging = new Proxy(store, {
        get: (target, key) =>
          key === 'getProvision'
            ? () => new Promise(() => undefined)
            : (Reflect.get(target, key) as (...a: unknown[]) => unknown).bind(target),
      });
      const first = await buildWebhookApp({
        store: hanging,
        statusQueue: queues.status,
        publicKeyPem: signer.publicKeyPem,
        log,
      });
      apps.push(first);
      const firstUrl = await first.listen({ port: 0, host: '127.0.0.1' });
      const body = event(new Date().toISOString());
      const headers = { 'content-type': 'application/json', 'concur-signature': signer.sign(body) };
      const abort = new AbortController();
      const dying = fetch(`${firstUrl}${WEBHOOK_PATH}`, { method: 'POST', body, headers, signal: abort.signal });
      await new Promise((r) => setTimeout(r, 300));
      abort.abort();
      await dying.catch(() => undefined);
      // Concur retries on the restarted server.
      const second = await buildWebhookApp({
        store,
        statusQueue: queues.status,
        publicKeyPem: signer.publicKeyPem,
        log,
      });
      apps.push(second);
      const secondUrl = await second.listen({ port: 0, host: '127.0.0.1' });
      const retry = await fetch(`${secondUrl}${WEBHOOK_PATH}`, { method: 'POST', body, headers });
      expect(retry.status).toBe(200);
      expect(((await retry.json()) as { outcome: string }).outcome).toBe('early');
      // Handled now: a third delivery is the duplicate.
      const again = await fetch(`${secondUrl}${WEBHOOK_PATH}`, { method: 'POST', body, headers });
      expect(((await again.json()) as { outcome: string }).outcome).toBe('duplicate');
    } finally {
      await Promise.all(apps.map((a) => a.close().catch(() => undefined)));
      await queues.close();
    }
  });
});

describe('slow clients are cut off', () => {
  let s: ServerProcess;
  beforeAll(async () => ({ s } = await serve({ SERVER_HEADER_TIMEOUT_MS: '1000', SERVER_REQUEST_TIMEOUT_MS: '2000' })));

  async function closedWithin(socket: Socket, ms: number): Promise<boolean> {
    // Not events.once: it rejects on the EPIPE a write after the close raises.
    const closed = new Promise<boolean>((r) => socket.on('close', () => r(true)));
    const late = new Promise<boolean>((r) => setTimeout(() => r(false), ms));
    return Promise.race([closed, late]);
  }

  it('a client that never finishes its headers (slowloris) is disconnected', async () => {
    const { port } = new URL(s.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1');
    const timer = setInterval(() => socket.write('1'), 200);
    try {
      expect(await closedWithin(socket, 8_000)).toBe(true);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
  });

  it('a client that never finishes its body is disconnected', async () => {
    const { port } = new URL(s.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write(
      `POST /drops?filename=slow.csv HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${s.auth}\r\n` +
        'Content-Type: text/csv\r\nContent-Length: 100000\r\n\r\nuserName',
    );
    const timer = setInterval(() => socket.write('x'), 200);
    try {
      expect(await closedWithin(socket, 10_000)).toBe(true);
    } finally {
      clearInterval(timer);
      socket.destroy();
    }
  });
});

describe('logins', () => {
  it('throttles a client after repeated failed logins, the right password included, with Retry-After', async () => {
    const { s } = await serve();
    const wrong = basic(PROCESS_AUTH.user, 'wrong-password-guess');
    for (let i = 0; i < 10; i += 1)
      expect((await fetch(`${s.url}/drops`, { headers: { authorization: wrong } })).status).toBe(401);
    const throttled = await fetch(`${s.url}/drops`, { headers: { authorization: wrong } });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await fetch(`${s.url}/drops`, { headers: { authorization: s.auth } })).status).toBe(429);
    // The probes stay open.
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('refuses to start with a DASHBOARD_PASSWORD shorter than 12 characters', async () => {
    const res = await runCli(['serve', '--port', '0'], {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: uniquePrefix('hostile-pw'),
      DASHBOARD_USER: 'ops',
      DASHBOARD_PASSWORD: 'short-pass1',
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/DASHBOARD_PASSWORD: must be at least 12 characters/);
  });
});

describe('security headers', () => {
  let s: ServerProcess;
  let ledger: Ledger;
  let dropId: string;
  beforeAll(async () => {
    ({ s, ledger } = await serve());
    const res = await fetch(`${s.url}/drops?filename=h.csv`, {
      method: 'POST',
      body: `${CSV}${person(9)}`,
      headers: { authorization: s.auth, 'content-type': 'text/csv' },
    });
    dropId = ((await res.json()) as { dropId: string }).dropId;
    expect(await ledger.getDrop(dropId)).toBeDefined();
  });

  it.each([
    ['/', false],
    ['/assets/page.js', false],
    ['/drops', true],
    ['/drops/DROP', true],
    ['/drops/DROP/rows', true],
    ['/drops/DROP/report?format=csv', true],
    ['/drops/DROP/report?format=jsonl', true],
    ['/metrics', true],
    ['/admin/queues', false],
    ['/admin/queues/api/queues', true],
    ['/no-such-page', false],
    ['/healthz', false],
  ])('%s: no framing, no sniffing (no-store: %s)', async (path, noStore) => {
    const res = await fetch(`${s.url}${path.replace('DROP', dropId)}`, { headers: { authorization: s.auth } });
    await res.arrayBuffer();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    if (noStore) expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
