import { spawnSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_PATH, freePort, startChild, stopAll, waitUntil, type Child } from '../../src/demo/processes.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import {
  deploymentsByRole,
  onPath,
  podSpecOf,
  renderKustomization,
  type Container,
  type K8sObject,
} from '../helpers/kustomize.ts';
import { deletePrefix, TEST_REDIS_URL, testRedis, uniquePrefix } from '../helpers/redis.ts';
import { STACK_AUTH } from '../helpers/stack.ts';

/*
 * The pods' processes as the manifests run them, without a cluster: the probes the Deployments
 * declare are asked of real processes; a SIGTERM drains within the grace period; and, where this
 * machine allows a private mount namespace (root), the whole pipeline runs as the manifests'
 * non-root user on a read-only root filesystem with only the declared volumes writable.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const kubectl = onPath('kubectl');
if (!kubectl) process.stderr.write('SKIPPED: kubectl is not installed; the pod checks need the rendered manifests\n');

const children: Child[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await stopAll(children.splice(0), 15_000);
  for (const c of cleanups.splice(0).reverse()) await c();
});

function render(): { config: Record<string, string>; pods: Map<string, K8sObject> } {
  const objects = renderKustomization('overlays/dev');
  const configMap = objects.find((o) => o.kind === 'ConfigMap')!.data!;
  // The pods also get the Secret; of it, the tests keep only the token record's key (the simulator's
  // credentials are set in podEnv).
  const secret = objects.find((o) => o.kind === 'Secret')!.data!;
  const tokenKey = Buffer.from(secret.TOKEN_ENCRYPTION_KEY!, 'base64').toString('utf8');
  return { config: { ...configMap, TOKEN_ENCRYPTION_KEY: tokenKey }, pods: deploymentsByRole(objects) };
}

const containerOf = (pods: Map<string, K8sObject>, role: string): Container =>
  podSpecOf(pods.get(role)!).containers[0]!;

async function status(url: string): Promise<{ code: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { code: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

/** The simulator, outside any pod. */
async function simulator(env: NodeJS.ProcessEnv, logDir: string): Promise<string> {
  const port = await freePort();
  const sim = startChild('simulator', process.execPath, [CLI_PATH, 'simulator', '--port', String(port)], env, logDir);
  children.push(sim);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('simulator', async () => (await fetch(`${url}/_sim/config`)).ok, 30_000, sim);
  return url;
}

/** The manifests' ConfigMap values, pointed at this test's Redis, simulator and ports. */
async function podEnv(config: Record<string, string>, prefix: string): Promise<NodeJS.ProcessEnv> {
  return {
    PATH: process.env.PATH,
    ...config,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    CONCUR_CLIENT_ID: 'sim-client-id',
    CONCUR_CLIENT_SECRET: 'sim-client-secret',
    CONCUR_COMPANY_ID: 'aa076ada-80a9-4f57-8e98-9300b1c3171d',
    CONCUR_REQUEST_TOKEN: 'sim-request-token',
    SIM_CLIENT_SECRET: 'sim-client-secret',
    SIM_REQUEST_TOKEN: 'sim-request-token',
    DASHBOARD_USER: STACK_AUTH.user,
    DASHBOARD_PASSWORD: STACK_AUTH.password,
    // Several pods share this host: they must not share addresses.
    HEALTH_HOST: '127.0.0.1',
    SERVER_HOST: '127.0.0.1',
    EXTENSION_LINGER_MS: '200',
    STATUS_FIRST_DELAY_MS: '300',
    STATUS_MAX_DELAY_MS: '1000',
    WATCH_POLL_MS: '100',
    LOG_LEVEL: 'info',
  };
}

/** A TCP port whose listener closes every connection unanswered, until the test ends. */
async function hangUpListener(): Promise<number> {
  const server = createServer((socket: Socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function tempDir(label: string): string {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.tmp', `${label}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cleanPrefix(prefix: string): void {
  cleanups.push(async () => {
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
}

describe.skipIf(!kubectl)('pods as the Kubernetes manifests run them', () => {
  it(
    "every role answers its Deployment's probes; a worker without Redis is alive but not ready",
    { timeout: 120_000 },
    async () => {
      const { config, pods } = render();
      const prefix = uniquePrefix('k8s-probes');
      cleanPrefix(prefix);
      const logDir = tempDir('k8s-probes');
      const env = await podEnv(config, prefix);
      env.CONCUR_BASE_URL = await simulator(env, logDir);
      const watchDir = tempDir('k8s-drops');
      const roles = ['server', 'identity-worker', 'extension-worker', 'status-worker', 'watcher'];
      const ports = new Map<string, number>();
      for (const role of roles) {
        const port = await freePort();
        ports.set(role, port);
        const c = containerOf(pods, role);
        const args = role === 'watcher' ? ['watch', watchDir] : c.args!;
        // The container's named port is HEALTH_PORT (PORT for the server): here, a free one each.
        const portEnv = role === 'server' ? { PORT: String(port) } : { HEALTH_PORT: String(port) };
        children.push(startChild(role, process.execPath, [CLI_PATH, ...args], { ...env, ...portEnv }, logDir));
      }
      // A worker whose Redis does not answer: a port held by a listener that hangs up at once (a
      // merely unused port could be taken by another process meanwhile).
      const deadPort = await hangUpListener();
      const orphanPort = await freePort();
      children.push(
        startChild(
          'orphan-worker',
          process.execPath,
          [CLI_PATH, 'worker', 'identity'],
          { ...env, REDIS_URL: `redis://127.0.0.1:${deadPort}`, HEALTH_PORT: String(orphanPort) },
          logDir,
        ),
      );

      for (const role of roles) {
        const c = containerOf(pods, role);
        const base = `http://127.0.0.1:${ports.get(role)}`;
        const child = children.find((x) => x.name === role);
        await waitUntil(`${role} ready`, async () => (await fetch(`${base}/readyz`)).ok, 60_000, child);
        for (const probe of [c.startupProbe!, c.livenessProbe!, c.readinessProbe!]) {
          const res = await status(`${base}${probe.httpGet!.path}`);
          expect(res.code, `${role} ${probe.httpGet!.path}`).toBe(200);
          expect(res.body.status, role).toBe('ok');
        }
        if (role !== 'server') expect((await fetch(`${base}/nothing`)).status).toBe(404);
      }
      const orphan = `http://127.0.0.1:${orphanPort}`;
      await waitUntil('orphan health', async () => (await fetch(`${orphan}/healthz`)).ok, 60_000);
      expect(await status(`${orphan}/healthz`)).toEqual({ code: 200, body: { status: 'ok' } });
      expect(await status(`${orphan}/readyz`)).toEqual({ code: 503, body: { status: 'failing', failing: ['redis'] } });
    },
  );

  it(
    'SIGTERM: a busy identity worker stops being ready, finishes its jobs and exits 0 within the grace period',
    { timeout: 180_000 },
    async () => {
      const { config, pods } = render();
      const grace = podSpecOf(pods.get('identity-worker')!).terminationGracePeriodSeconds!;
      const prefix = uniquePrefix('k8s-drain');
      cleanPrefix(prefix);
      const logDir = tempDir('k8s-drain');
      const env = await podEnv(config, prefix);
      env.SIM_LATENCY_MS = '100';
      env.CONCUR_BASE_URL = await simulator(env, logDir);
      const healthPort = await freePort();
      const worker = startChild(
        'identity-worker',
        process.execPath,
        [CLI_PATH, 'worker', 'identity'],
        { ...env, HEALTH_PORT: String(healthPort) },
        logDir,
      );
      children.push(worker);
      for (const role of ['extension', 'status'])
        children.push(startChild(role, process.execPath, [CLI_PATH, 'worker', role], env, logDir));
      const health = `http://127.0.0.1:${healthPort}`;
      await waitUntil('identity ready', async () => (await fetch(`${health}/readyz`)).ok, 60_000, worker);

      const drop = writeCsvDrop(Array.from({ length: 100 }, (_, i) => person(i + 1)));
      const ingest = spawnSync(process.execPath, [CLI_PATH, 'ingest', drop, '--json'], { env, encoding: 'utf8' });
      const { dropId } = JSON.parse(ingest.stdout) as { dropId: string };
      const redis = testRedis();
      cleanups.push(() => void redis.disconnect());
      const ledger = new Ledger(redis, prefix);
      // Wait until the worker is in the middle of its jobs (some rows written, most not).
      await waitUntil(
        'identity busy',
        async () => ((await ledger.getDrop(dropId))?.counts.pending ?? 100) < 95,
        60_000,
        worker,
      );
      const t0 = Date.now();
      worker.process.kill('SIGTERM');
      await waitUntil('not ready', async () => (await fetch(`${health}/readyz`)).status === 503, 5_000);
      const draining = await status(`${health}/readyz`).catch(() => undefined);
      const alive = await status(`${health}/healthz`).catch(() => undefined);
      const code = await worker.exited;
      const seconds = (Date.now() - t0) / 1000;
      if (draining) expect(draining.body.failing).toContain('shutting down');
      if (alive) expect(alive.code).toBe(200);
      expect(code).toBe(0);
      expect(seconds).toBeLessThan(Math.min(grace, Number(config.SHUTDOWN_DEADLINE_MS) / 1000));
      // The jobs it held were finished or handed back: another worker completes the drop.
      children.push(startChild('identity-2', process.execPath, [CLI_PATH, 'worker', 'identity'], env, logDir));
      await waitUntil('drop complete', async () => (await ledger.getDrop(dropId))?.meta.status === 'complete', 120_000);
      expect((await ledger.getDrop(dropId))!.counts.done).toBe(100);
    },
  );

  const sandboxable =
    onPath('unshare') &&
    onPath('setpriv') &&
    spawnSync('unshare', ['-m', 'sh', '-c', 'mount -o bind,remount,ro / && mount -t tmpfs t /mnt'], {
      stdio: 'ignore',
    }).status === 0;
  if (!sandboxable)
    process.stderr.write('SKIPPED: no private mount namespace here (needs root); read-only root not exercised\n');

  it.skipIf(!sandboxable)(
    "the whole pipeline as the pods' user on a read-only root filesystem, only /tmp and the drop folder writable",
    { timeout: 240_000 },
    async () => {
      const { config, pods } = render();
      const prefix = uniquePrefix('k8s-ro');
      cleanPrefix(prefix);
      const logDir = tempDir('k8s-ro-logs');
      const env = await podEnv(config, prefix);
      env.CONCUR_BASE_URL = await simulator(env, logDir);
      const script = join(tempDir('k8s-ro-bin'), 'pod.sh');
      // The pod: the declared volumes mounted writable, then the root read-only, then the user.
      writeFileSync(
        script,
        [
          'set -eu',
          'if [ -n "${POD_DROPS:-}" ]; then mount --bind "$POD_DROPS" "$POD_DROPS"; fi',
          // A checkout under /tmp (CI clones often are) would vanish under the pod's /tmp: it is
          // carried into the pod's /tmp at the same path, read-only like the rest of the image.
          'case "$POD_ROOT" in /tmp/*) inner="$POD_TMP/${POD_ROOT#/tmp/}"; mkdir -p "$inner"; mount --rbind "$POD_ROOT" "$inner";; esac',
          'mount --rbind "$POD_TMP" /tmp',
          'mount -o bind,remount,ro /',
          'case "$POD_ROOT" in /tmp/*) mount -o bind,remount,ro "$POD_ROOT";; esac',
          'exec setpriv --reuid="$POD_UID" --regid="$POD_GID" --clear-groups --inh-caps=-all -- "$@"',
        ].join('\n'),
      );
      const pod = (role: string, args: string[], extra: Record<string, string>): Child => {
        const spec = podSpecOf(pods.get(role)!);
        const uid = spec.securityContext!.runAsUser!;
        const tmp = tempDir(`k8s-ro-tmp-${role}`);
        chownSync(tmp, uid, uid);
        const podEnvironment = {
          ...env,
          ...extra,
          POD_TMP: tmp,
          POD_ROOT: ROOT,
          POD_UID: String(uid),
          POD_GID: String(spec.securityContext!.runAsGroup ?? uid),
        };
        const child = startChild(
          role,
          'unshare',
          ['-m', 'sh', script, process.execPath, CLI_PATH, ...args],
          podEnvironment,
          logDir,
        );
        children.push(child);
        return child;
      };

      // The sandbox is what it claims: the user cannot write outside its volumes.
      const probe = spawnSync(
        'unshare',
        [
          '-m',
          'sh',
          script,
          'sh',
          '-c',
          `id -u; touch ${join(ROOT, 'k8s-ro-probe')} 2>&1; touch /tmp/ok && echo tmp-ok`,
        ],
        {
          env: { ...env, POD_TMP: tempDir('k8s-ro-probe'), POD_ROOT: ROOT, POD_UID: '1000', POD_GID: '1000' },
          encoding: 'utf8',
        },
      );
      expect(probe.stdout).toMatch(/^1000\n/);
      expect(probe.stdout).toMatch(/Read-only file system|Permission denied/);

      const drops = tempDir('k8s-ro-drops');
      chownSync(drops, 1000, 1000);
      const serverPort = await freePort();
      const healthPorts = new Map<string, number>();
      for (const role of ['identity-worker', 'extension-worker', 'status-worker', 'watcher'])
        healthPorts.set(role, await freePort());
      const server = pod('server', containerOf(pods, 'server').args!, { PORT: String(serverPort) });
      for (const role of ['identity-worker', 'extension-worker', 'status-worker'])
        pod(role, containerOf(pods, role).args!, { HEALTH_PORT: String(healthPorts.get(role)) });
      pod('watcher', ['watch', drops], { HEALTH_PORT: String(healthPorts.get('watcher')), POD_DROPS: drops });

      const serverUrl = `http://127.0.0.1:${serverPort}`;
      await waitUntil('server', async () => (await fetch(`${serverUrl}/readyz`)).ok, 60_000, server);
      for (const [role, port] of healthPorts)
        await waitUntil(role, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 60_000);

      // One drop through the watch folder, one uploaded to the server (spooled to /tmp).
      await waitUntil('inbox', async () => spawnSync('test', ['-d', join(drops, 'inbox')]).status === 0, 30_000);
      writeCsvDrop(
        Array.from({ length: 20 }, (_, i) => person(i + 1)),
        'first.csv',
        join(drops, 'inbox'),
      );
      const auth = `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`;
      const csv = ['userName,givenName,familyName,email,employeeNumber,active']
        .concat(Array.from({ length: 20 }, (_, i) => `u${i}@example.com,G${i},F${i},u${i}@example.com,U${i},true`))
        .join('\n');
      const upload = await fetch(`${serverUrl}/drops?filename=upload.csv`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'text/csv' },
        body: `${csv}\n`,
      });
      expect(upload.status, await upload.clone().text()).toBe(201);

      const redis = testRedis();
      cleanups.push(() => void redis.disconnect());
      const ledger = new Ledger(redis, prefix);
      await waitUntil(
        'both drops complete',
        async () => {
          const ids = await ledger.listDrops(10);
          const views = await Promise.all(ids.map((id) => ledger.getDrop(id)));
          return views.length === 2 && views.every((v) => v?.meta.status === 'complete');
        },
        180_000,
      );
      for (const id of await ledger.listDrops(10)) expect((await ledger.getDrop(id))!.counts.done).toBe(20);
    },
  );
});
