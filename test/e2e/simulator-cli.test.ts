import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/provision.js', import.meta.url));
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  child = undefined;
});

/** Resolves with the base URL the simulator prints on stderr. */
function waitForUrl(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /Concur simulator listening on (http:\/\/\S+)/.exec(err);
      if (m?.[1]) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`simulator exited with ${String(code)}: ${err}`)));
  });
}

describe('provision simulator', () => {
  it('serves OAuth and Identity with flags over SIM_* env, and exits 0 on SIGTERM', async () => {
    child = spawn(
      process.execPath,
      [BIN, 'simulator', '--port', '0', '--request-token', 'flag-token', '--token-lifetime-s', '120'],
      {
        env: { ...process.env, SIM_CLIENT_ID: 'env-client', SIM_CLIENT_SECRET: 'env-secret', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const baseUrl = await waitForUrl(child);
    const res = await fetch(`${baseUrl}/oauth2/v0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'env-client',
        client_secret: 'env-secret',
        grant_type: 'password',
        username: 'aa076ada-80a9-4f57-8e98-9300b1c3171d',
        password: 'flag-token',
        credtype: 'authtoken',
      }),
    });
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(200);
    expect(body.expires_in).toBe('120');
    expect(body.geolocation).toBe(baseUrl);
    const users = await fetch(`${baseUrl}/profile/identity/v4.1/Users`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(users.status).toBe(200);

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('takes the failure knobs from flags over SIM_* env', async () => {
    child = spawn(
      process.execPath,
      [
        BIN,
        'simulator',
        '--port',
        '0',
        '--search-lag-ms',
        '2500',
        '--foreign-user-names',
        'taken@other.example, also@other.example',
        '--relocate-to',
        'http://127.0.0.1:9',
      ],
      {
        env: {
          ...process.env,
          SIM_SEARCH_LAG_MS: '100',
          SIM_APPLY_THEN_FAIL_RATE: '0.05',
          SIM_REQUEST_TOKEN_LIFETIME_S: '600',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const baseUrl = await waitForUrl(child);
    const knobs = (await (await fetch(`${baseUrl}/_sim/config`)).json()) as Record<string, unknown>;
    expect(knobs).toMatchObject({
      searchLagMs: 2500,
      applyThenFailRate: 0.05,
      requestTokenLifetimeS: 600,
      foreignUserNames: ['taken@other.example', 'also@other.example'],
      relocateTo: 'http://127.0.0.1:9',
    });
  });

  it('exits 2 with a message on a bad knob', async () => {
    child = spawn(process.execPath, [BIN, 'simulator', '--port', '0', '--error-rate', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(err).toMatch(/SIM_ERROR_RATE|errorRate|error-rate/);
  });
});
