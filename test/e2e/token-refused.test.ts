/* eslint-disable @typescript-eslint/no-explicit-any -- the test reads `status --json` loosely */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, waitUntil } from '../../src/demo/processes.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { STACK_AUTH, startStack, type Stack } from '../helpers/stack.ts';

/*
 * Concur refuses the stored refresh token (code 108: revoked, expired or rotated away) and the
 * request token has been replaced: the pipeline pauses instead of failing rows, says so in
 * `provision status`, on /metrics and in one alert line, and resumes by itself once a worker
 * starts with a new request token (docs/operations.md#concur-refuses-the-token).
 */

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const auth = `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`;

async function sim(s: Stack, method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  return fetch(`${s.simUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function ingest(s: Stack, rows: Record<string, string>[]): Promise<string> {
  const file = writeCsvDrop(rows, `drop-${rows[0]!.employeeNumber}.csv`, s.logDir);
  const res = await runCli(['ingest', file, '--json'], s.env);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout.trim()) as { dropId: string }).dropId;
}

async function status(s: Stack, dropId: string): Promise<Record<string, any>> {
  const res = await runCli(['status', dropId, '--json'], s.env);
  return JSON.parse(res.stdout.trim()) as Record<string, any>;
}

const refusedGauge = async (s: Stack): Promise<string | undefined> => {
  const text = await (await fetch(`${s.serverUrl}/metrics`, { headers: { authorization: auth } })).text();
  return /^provision_concur_token_refused (\d)/m.exec(text)?.[1];
};

describe('Concur refuses every credential (code 108)', () => {
  it('pauses with a clear status, an alert and the metric; rows wait; a new request token resumes', async () => {
    stack = await startStack({ server: true, env: { SIM_TOKEN_LIFETIME_S: '2' } });
    const s = stack;
    const first = await ingest(
      s,
      Array.from({ length: 10 }, (_, i) => person(i + 1)),
    );
    await waitUntil('first drop complete', async () => (await status(s, first)).status === 'complete', 60_000);
    expect(await refusedGauge(s)).toBe('0');

    // The admin generates a new company request token (the one the pipeline holds dies) and the
    // app's connection is revoked (every refresh token dies): only the new request token works.
    const newRequestToken = ((await (await sim(s, 'POST', '/_sim/request-token')).json()) as { requestToken: string })
      .requestToken;
    const form = new URLSearchParams({
      client_id: 'sim-client-id',
      client_secret: 'sim-client-secret',
      grant_type: 'password',
      username: 'aa076ada-80a9-4f57-8e98-9300b1c3171d',
      password: newRequestToken,
      credtype: 'authtoken',
    });
    const admin = (await (await fetch(`${s.simUrl}/oauth2/v0/token`, { method: 'POST', body: form })).json()) as {
      access_token: string;
    };
    expect((await sim(s, 'DELETE', '/app-mgmt/v0/connections', undefined, admin.access_token)).status).toBe(200);
    await sim(s, 'POST', '/_sim/tokens/expire');

    const second = await ingest(
      s,
      Array.from({ length: 10 }, (_, i) => person(i + 101)),
    );
    await waitUntil(
      'the pipeline reports the refusal',
      async () => (await status(s, second)).concurPaused !== undefined,
      60_000,
    );
    const paused = await status(s, second);
    expect(paused.status).toBe('running');
    expect(paused.concurPaused).toMatchObject({ code: 108 });
    expect(paused.concurPaused.message).toContain('CONCUR_REQUEST_TOKEN');
    expect(await refusedGauge(s)).toBe('1');
    const human = await runCli(['status', second], s.env);
    expect(human.stdout).toMatch(/concur {4}paused since .*code 108/);
    // Nothing failed: the rows wait.
    await new Promise((r) => setTimeout(r, 3000));
    const waiting = await status(s, second);
    expect(waiting.failed).toBe(0);
    expect(waiting.progress.counts.pending).toBe(10);
    const logs = await s.logs();
    expect(logs).toContain('"alert":"concur_token_refused"');

    // A worker with the new request token: its grant works, every process picks the token up.
    s.start('worker-identity-new', ['worker', 'identity'], { CONCUR_REQUEST_TOKEN: newRequestToken });
    await waitUntil('second drop complete', async () => (await status(s, second)).status === 'complete', 90_000);
    const done = await status(s, second);
    expect(done.failed).toBe(0);
    expect(done.concurPaused).toBeUndefined();
    expect(await refusedGauge(s)).toBe('0');
  });
});
