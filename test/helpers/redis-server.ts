import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from '../../src/demo/processes.ts';

export interface PrivateRedis {
  port: number;
  dir: string;
  url: string;
  /** SIGKILLs the server (no shutdown save: only the AOF survives). */
  kill(): Promise<void>;
  /** Starts it again on the same port and dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own, on a free port with its own dir and AOF on
 * (`appendfsync always`), so a kill -9 keeps every acknowledged write.
 */
export async function startPrivateRedis(options: { password?: string; extraArgs?: string[] } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'provision-redis-'));
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `redis://${auth}127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'];
    if (options.password) args.push('--requirepass', options.password);
    args.push(...(options.extraArgs ?? []));
    const out = createWriteStream(join(dir, 'redis.log'), { flags: 'a' });
    const c = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.pipe(out);
    c.stderr?.pipe(out);
    child = c;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    await waitUntil(`redis-server :${port}`, async () => {
      const r = new Redis(port, '127.0.0.1', { password: options.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        // Loading the AOF answers LOADING until done.
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    }, 20_000);
  };
  const kill = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  await launch();
  return {
    port,
    dir,
    url,
    kill,
    restart: launch,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
