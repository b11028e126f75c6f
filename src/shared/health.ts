import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.ts';
import type { RedisConnection } from './redis.ts';
import type { RedisDurabilityCheck } from './redis-durability.ts';

/*
 * The health endpoint of a process without an HTTP server of its own (workers, the watcher), for
 * Kubernetes probes (docs/operations.md#health-endpoint):
 *   GET /healthz  200 while the process works: the event loop answers and every part that should
 *                 run does (a worker that stopped on its own is not alive; one draining is);
 *   GET /readyz   200 when, besides, Redis answers PING and the process is not shutting down, and
 *                 (with REQUIRE_DURABLE_REDIS) Redis keeps every key; otherwise its durability
 *                 problems are listed as warnings.
 * A failing answer is 503 with the names of what failed.
 */

/** A named part of the process: true while it does its job. */
export type LivenessCheck = () => boolean;

export interface HealthOptions {
  redis: RedisConnection;
  /** True once shutdown has begun. */
  closing: () => boolean;
  log: Logger;
  /** How long /readyz waits for PING (keep the probe's timeoutSeconds above it). Default 2,000 ms. */
  pingTimeoutMs?: number;
  /** Redis durability: reported by /readyz, and a reason for 503 when `required`. */
  durability?: { check: RedisDurabilityCheck; required: boolean };
}

/** The durability problems of Redis, or none when it cannot be read now (PING decides then). */
export async function durabilityProblems(check: RedisDurabilityCheck | undefined): Promise<string[]> {
  if (!check) return [];
  try {
    return (await check.current()).problems;
  } catch {
    return [];
  }
}

async function redisAnswers(redis: RedisConnection, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export class HealthEndpoint {
  private readonly checks = new Map<string, LivenessCheck>();
  private readonly options: HealthOptions;
  private server: Server | undefined;

  constructor(options: HealthOptions) {
    this.options = options;
  }

  /** Adds a part whose failure makes the process not alive. */
  addCheck(name: string, check: LivenessCheck): void {
    this.checks.set(name, check);
  }

  /** The parts that do not work. While draining, a worker that stopped taking jobs does what it should. */
  private failing(): string[] {
    if (this.options.closing()) return [];
    return [...this.checks].filter(([, check]) => !check()).map(([name]) => name);
  }

  /** Listens (port 0 picks one); resolves with the base URL. */
  async listen(port: number, host: string): Promise<string> {
    const server = createServer((req, res) => {
      const answer = (ok: boolean, body: Record<string, unknown>): void => {
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'failing', ...body }));
      };
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/healthz') {
        const dead = this.failing();
        answer(dead.length === 0, dead.length ? { failing: dead } : {});
      } else if (path === '/readyz') {
        void (async () => {
          const redisOk = await redisAnswers(this.options.redis, this.options.pingTimeoutMs ?? 2_000);
          const durability = this.options.durability;
          const problems = redisOk ? await durabilityProblems(durability?.check) : [];
          const notDurable = problems.map((p) => `redis not durable: ${p}`);
          const reasons = [
            ...this.failing(),
            ...(redisOk ? [] : ['redis']),
            ...(durability?.required ? notDurable : []),
            ...(this.options.closing() ? ['shutting down'] : []),
          ];
          const warnings = durability?.required || notDurable.length === 0 ? {} : { warnings: notDurable };
          answer(
            reasons.length === 0,
            reasons.length ? { failing: reasons, ...warnings } : { redis: 'ok', ...warnings },
          );
        })();
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.options.log.error({ err }, 'health endpoint error'));
    this.server = server;
    const address = server.address() as AddressInfo;
    this.options.log.info({ port: address.port, host: address.address }, 'health endpoint listening');
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shown}:${address.port}`;
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
