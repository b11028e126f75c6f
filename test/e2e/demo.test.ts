import { describe, expect, it } from 'vitest';
import { freePort, runCli } from '../../src/demo/processes.ts';
import type { DemoSummary } from '../../src/demo/main.ts';
import { TEST_REDIS_URL } from '../helpers/redis.ts';

const runDemo = (args: string[], env: NodeJS.ProcessEnv) => runCli(['demo', ...args], env);

describe('provision demo (e2e)', () => {
  it('runs a generated drop to completion with every process, prints the summary and URLs, and exits with --exit', async () => {
    const res = await runDemo(['--people', '400', '--exit', '--json'], { ...process.env, REDIS_URL: TEST_REDIS_URL });
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout.trim()) as DemoSummary;
    expect(summary.status).toBe('complete');
    expect(summary.rows).toBe(400);
    expect(summary.states.invalid).toBe(summary.generated.bad);
    // Pre-existing people are updated (done); nothing fails against the simulator.
    expect(summary.states).toEqual({ done: 400 - summary.generated.bad, invalid: summary.generated.bad });
    expect(summary.urls.board).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/admin\/queues$/);
    expect(summary.urls.drop).toContain(`#drop=${summary.dropId}`);
  });

  it('starts a private redis-server when REDIS_URL does not answer', async () => {
    const port = await freePort();
    const res = await runDemo(['--people', '60', '--exit', '--json'], {
      ...process.env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('starting a private redis-server');
    expect((JSON.parse(res.stdout.trim()) as DemoSummary).status).toBe('complete');
  });

  it('says how to start Redis, and fails, when none answers and redis-server is not on the PATH', async () => {
    const port = await freePort();
    const res = await runDemo(['--people', '10', '--exit'], {
      ...process.env,
      PATH: '/nonexistent',
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('redis-server --daemonize yes');
    expect(res.stderr).toContain('docker run');
    expect(res.stdout).toBe('');
  });
});
