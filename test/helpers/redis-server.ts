import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from '../../src/demo/processes.ts';

interface RedisProcess {
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Starts `redis-server args` (output appended to `logFile`) and waits until it answers PING;
 * a server that never does is killed.
 */
async function spawnRedisServer(
  port: number,
  args: string[],
  logFile: string,
  password?: string,
  tls?: { ca: Buffer },
): Promise<RedisProcess> {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const server: RedisProcess = { child, exited: exitCode.then(() => undefined) };
  try {
    await waitUntil(
      `redis-server :${port}`,
      async () => {
        const r = new Redis(port, '127.0.0.1', {
          password,
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          ...(tls ? { tls } : {}),
        });
        r.on('error', () => undefined);
        try {
          await r.connect();
          // Loading the AOF answers LOADING until done.
          return (await r.ping()) === 'PONG';
        } finally {
          r.disconnect();
        }
      },
      20_000,
      { name: `redis-server :${port}`, process: child, logFile, exited: exitCode },
    );
  } catch (err) {
    await killRedisServer(server);
    throw err;
  }
  return server;
}

async function killRedisServer(server: RedisProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

export interface PrivateRedis {
  port: number;
  dir: string;
  url: string;
  /** With `tls`: the self-signed certificate clients must trust (e.g. NODE_EXTRA_CA_CERTS). */
  caFile?: string;
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
export async function startPrivateRedis(
  options: { password?: string; extraArgs?: string[]; tls?: boolean } = {},
): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'provision-redis-'));
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = `${options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${port}`;
  const tls = options.tls ? await selfSignedCertificate(dir) : undefined;
  let server: RedisProcess | undefined;
  const launch = async (): Promise<void> => {
    // With TLS the plain port is off: only TLS clients get in.
    const listen = tls
      ? [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          tls.certFile,
          '--tls-key-file',
          tls.keyFile,
          '--tls-ca-cert-file',
          tls.certFile,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(port)];
    const args = [
      ...listen,
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--protected-mode',
      'no',
    ];
    if (options.password) args.push('--requirepass', options.password);
    args.push(...(options.extraArgs ?? []));
    server = await spawnRedisServer(
      port,
      args,
      join(dir, 'redis.log'),
      options.password,
      tls ? { ca: await readFile(tls.certFile) } : undefined,
    );
  };
  const kill = async (): Promise<void> => {
    if (server) await killRedisServer(server);
  };
  await launch();
  return {
    port,
    dir,
    url,
    ...(tls ? { caFile: tls.certFile } : {}),
    kill,
    restart: launch,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A certificate for 127.0.0.1 made by `openssl` (the test skips where there is none). */
async function selfSignedCertificate(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const made = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  if (made.code !== 0) throw new Error(`openssl failed: ${made.output}`);
  return { certFile, keyFile };
}

export interface PrivateRedisCluster {
  /** The masters' ports, in start order. */
  ports: number[];
  dir: string;
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...`: the pipeline's REDIS_URL for it. */
  url: string;
  /** Kills every node and removes the dir. */
  stop(): Promise<void>;
}

/** Exit code and output of a short command. */
function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ code: null, output: `${output}${err.message}` }));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/**
 * A Redis Cluster of the test's own: `masters` redis-servers with `cluster-enabled yes` (no
 * replicas, no persistence) on free ports in a temp dir, joined with `redis-cli --cluster create`,
 * ready once every node reports `cluster_state:ok`. Each node's cluster bus gets a free port of
 * its own (`--cluster-port`): the default, port + 10000, may be past 65535 for an ephemeral port.
 */
export async function startPrivateRedisCluster(options: { masters?: number } = {}): Promise<PrivateRedisCluster> {
  const masters = options.masters ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'provision-redis-cluster-'));
  const ports = new Set<number>();
  while (ports.size < masters * 2) ports.add(await freePort());
  const [clientPorts, busPorts] = [[...ports].slice(0, masters), [...ports].slice(masters)];
  const servers: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => killRedisServer(s)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.all(
      clientPorts.map((port, i) => {
        const args = [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--protected-mode',
          'no',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-port',
          String(busPorts[i]),
          '--cluster-node-timeout',
          '5000',
          '--appendonly',
          'no',
          '--save',
          '',
        ];
        return spawnRedisServer(port, args, join(dir, `redis-${port}.log`));
      }),
    );
    servers.push(...started);
    const create = await run('redis-cli', [
      '--cluster',
      'create',
      ...clientPorts.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    if (create.code !== 0)
      throw new Error(`redis-cli --cluster create failed (${String(create.code)}):\n${create.output}`);
    // `create` returns once the slots are assigned; every node must also have heard of the others.
    await waitUntil(
      'cluster_state:ok on every node',
      async () => {
        const infos = await Promise.all(
          clientPorts.map(async (port) => {
            const r = new Redis(port, '127.0.0.1', {
              lazyConnect: true,
              maxRetriesPerRequest: 0,
              retryStrategy: () => null,
            });
            r.on('error', () => undefined);
            try {
              await r.connect();
              return String(await r.call('CLUSTER', 'INFO'));
            } finally {
              r.disconnect();
            }
          }),
        );
        return infos.every(
          (info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${masters}`),
        );
      },
      30_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ports: clientPorts,
    dir,
    url: `redis+cluster://${clientPorts.map((p) => `127.0.0.1:${p}`).join(',')}`,
    stop,
  };
}
