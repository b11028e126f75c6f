import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli.ts';
import { configKeys, loadConfig } from '../../../src/shared/config.ts';
import {
  deploymentsByRole,
  KUBERNETES_DIR,
  onPath,
  podSpecOf,
  renderKustomization,
  type K8sObject,
} from '../../helpers/kustomize.ts';

/*
 * The manifests without a cluster: they render, every object passes the Kubernetes and KEDA
 * schemas (kubernetes-models' validators for types, enums and required fields, and TypeScript's
 * excess-property check against the same models' types for unknown or misspelt fields), their
 * environment is exactly the configuration schema, and every pod runs as the docs say.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const kubectl = onPath('kubectl');
if (!kubectl) process.stderr.write('SKIPPED: kubectl is not installed; the Kubernetes manifests are not checked\n');

/** The model (runtime validator) and the TypeScript type of every kind the manifests use. */
const KINDS: Record<string, { model: new (o: never) => { validate(): void }; module: string; type: string }> = {
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/PersistentVolumeClaim': {
    model: PersistentVolumeClaim,
    module: 'kubernetes-models/v1/PersistentVolumeClaim',
    type: 'IPersistentVolumeClaim',
  },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, module: 'kubernetes-models/apps/v1/StatefulSet', type: 'IStatefulSet' },
  'keda.sh/v1alpha1/ScaledObject': {
    model: ScaledObject,
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
    type: 'IScaledObject',
  },
};
const kindOf = (o: K8sObject) => `${o.apiVersion}/${o.kind}`;

/** `KEY=value` lines of an env file (comments and blank lines skipped). */
function envFile(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const SECRET_NAMES = /SECRET|_TOKEN$|PASSWORD|HEADERS|^REDIS_URL$|_KEY$/;
const OVERLAYS = ['overlays/dev', 'overlays/production'] as const;

describe.skipIf(!kubectl)('Kubernetes manifests (deploy/kubernetes)', () => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(() => {
    for (const dir of ['base', ...OVERLAYS]) rendered.set(dir, renderKustomization(dir));
  });
  const objects = (dir: string) => rendered.get(dir)!;
  const configMap = (dir: string) => objects(dir).find((o) => o.kind === 'ConfigMap')!;
  /** The Secret's keys and values: generated in dev, created from secrets.env.example elsewhere. */
  const secretEnv = (dir: string): Record<string, string> => {
    const secret = objects(dir).find((o) => o.kind === 'Secret');
    if (!secret) return envFile(join(KUBERNETES_DIR, 'base/secrets.env.example'));
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  };

  it('renders the base and both overlays, with a Deployment per role and KEDA for the workers in production', () => {
    for (const dir of ['base', ...OVERLAYS])
      expect([...deploymentsByRole(objects(dir)).keys()].sort(), dir).toEqual(
        expect.arrayContaining(['extension-worker', 'identity-worker', 'server', 'status-worker', 'watcher']),
      );
    const scaled = objects('overlays/production').filter((o) => o.kind === 'ScaledObject');
    expect(scaled.map((o) => (o.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).sort()).toEqual([
      'provision-extension-worker',
      'provision-identity-worker',
      'provision-status-worker',
    ]);
    // The dev overlay runs its own Redis and simulator and no KEDA.
    const dev = objects('overlays/dev');
    expect(dev.filter((o) => o.kind === 'ScaledObject')).toEqual([]);
    expect(dev.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining(['StatefulSet/provision-redis', 'Deployment/provision-simulator']),
    );
  });

  it('every object passes the Kubernetes and KEDA schemas', () => {
    for (const dir of ['base', ...OVERLAYS])
      for (const o of objects(dir)) {
        const kind = KINDS[kindOf(o)];
        expect(kind, `${dir}: no schema for ${kindOf(o)}`).toBeDefined();
        expect(() => new kind!.model(o as never).validate(), `${dir} ${o.kind}/${o.metadata.name}`).not.toThrow();
      }
  });

  it('no object has a field the schemas do not know (TypeScript excess-property check on the models)', () => {
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, '.tmp', 'k8s-types-'));
    try {
      const imports = Object.values(KINDS).map((k) => `import type { ${k.type} } from '${k.module}';`);
      const lines = [...imports];
      let n = 0;
      for (const d of ['base', ...OVERLAYS])
        for (const o of objects(d))
          lines.push(`export const o${n++}: ${KINDS[kindOf(o)]!.type} = ${JSON.stringify(o)};`);
      const file = join(dir, 'manifests.ts');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const tsc = spawnSync(
        process.execPath,
        [
          join(ROOT, 'node_modules/typescript/bin/tsc'),
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          file,
        ],
        { encoding: 'utf8', cwd: ROOT },
      );
      expect(tsc.stdout + tsc.stderr).toBe('');
      expect(tsc.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the ConfigMap and the Secret hold exactly the configuration schema's variables, secrets in the Secret", () => {
    for (const dir of OVERLAYS) {
      const config = configMap(dir).data ?? {};
      const secrets = secretEnv(dir);
      const both = [...Object.keys(config), ...Object.keys(secrets)].sort();
      const hint = `${dir}: add a new variable to deploy/kubernetes/base/config.env (or secrets.env.example and the dev overlay's secrets.env)`;
      const schema = configKeys();
      expect({ duplicated: both.filter((k, i) => both.indexOf(k) !== i) }, hint).toEqual({ duplicated: [] });
      expect(
        { missing: schema.filter((k) => !both.includes(k)), unknown: both.filter((k) => !schema.includes(k)) },
        hint,
      ).toEqual({ missing: [], unknown: [] });
      expect(
        Object.keys(config).filter((k) => SECRET_NAMES.test(k)),
        `${dir}: secrets in the ConfigMap`,
      ).toEqual([]);
      // The values are valid: every process would start with them.
      expect(() => loadConfig({ ...config, ...secrets }), dir).not.toThrow();
    }
  });

  it('every pod takes its environment from the ConfigMap and the Secret alone, and runs a real command', () => {
    const program = buildProgram();
    for (const dir of OVERLAYS)
      for (const [role, d] of deploymentsByRole(objects(dir))) {
        const [c] = podSpecOf(d).containers;
        const refs = (c!.envFrom ?? []).map((e) => e.configMapRef?.name ?? e.secretRef?.name);
        const cm = configMap(dir).metadata.name;
        const secret = objects(dir).find((o) => o.kind === 'Secret')?.metadata.name ?? 'provision-secrets';
        expect(refs, `${dir} ${role}`).toEqual([cm, secret]);
        expect(c!.env, `${dir} ${role}: no env beside envFrom`).toBeUndefined();
        expect(podSpecOf(d).enableServiceLinks, `${dir} ${role}: service links add variables`).toBe(false);
        const [command, ...rest] = c!.args ?? [];
        const cmd = program.commands.find((x) => x.name() === command);
        expect(cmd, `${dir} ${role}: ${command}`).toBeDefined();
        if (command === 'worker') expect(cmd!.registeredArguments[0]!.argChoices).toContain(rest[0]);
      }
  });

  it('probes name a declared port: the health port (HEALTH_PORT) or the server port (PORT), on /healthz and /readyz', () => {
    for (const dir of OVERLAYS) {
      const env = configMap(dir).data!;
      expect(env.HEALTH_HOST).toBe('0.0.0.0');
      expect(env.SERVER_HOST).toBe('0.0.0.0');
      for (const [role, d] of deploymentsByRole(objects(dir))) {
        if (role === 'simulator') continue;
        const [c] = podSpecOf(d).containers;
        const ports = new Map((c!.ports ?? []).map((p) => [p.name, p.containerPort]));
        const expected = role === 'server' ? { http: Number(env.PORT) } : { health: Number(env.HEALTH_PORT) };
        expect(Object.fromEntries(ports), `${dir} ${role}`).toEqual(expected);
        const paths = { startup: '/healthz', liveness: '/healthz', readiness: '/readyz' } as const;
        for (const [probe, path] of Object.entries(paths)) {
          const p = c![`${probe as keyof typeof paths}Probe`];
          expect(p?.httpGet, `${dir} ${role} ${probe}`).toEqual({ path, port: Object.keys(expected)[0] });
        }
        // /readyz waits up to 2 s for Redis to answer PING.
        expect(c!.readinessProbe!.timeoutSeconds, `${dir} ${role}`).toBeGreaterThan(2);
      }
    }
  });

  it('every pod runs non-root on a read-only root filesystem, drains within its grace period, with requests and limits', () => {
    for (const dir of OVERLAYS) {
      const deadlineMs = Number(configMap(dir).data!.SHUTDOWN_DEADLINE_MS);
      for (const [role, d] of deploymentsByRole(objects(dir))) {
        const pod = podSpecOf(d);
        const [c] = pod.containers;
        const where = `${dir} ${role}`;
        expect(pod.securityContext, where).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
        expect(c!.securityContext, where).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(pod.automountServiceAccountToken, where).toBe(false);
        if (role !== 'simulator') expect(pod.terminationGracePeriodSeconds! * 1000, where).toBeGreaterThan(deadlineMs);
        // The only writable paths: /tmp (an emptyDir) and, for the watcher, its drop folder.
        const mounts = Object.fromEntries((c!.volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
        expect(mounts['/tmp'], where).toBe('tmp');
        expect(pod.volumes?.find((v) => v.name === 'tmp')?.emptyDir, where).toBeDefined();
        for (const kind of ['requests', 'limits'] as const)
          expect(Object.keys(c!.resources?.[kind] ?? {}).sort(), `${where} ${kind}`).toEqual(['cpu', 'memory']);
      }
    }
    const watcher = podSpecOf(deploymentsByRole(objects('overlays/production')).get('watcher')!);
    expect(watcher.containers[0]!.volumeMounts).toContainEqual({ name: 'drops', mountPath: '/drops' });
    expect(watcher.containers[0]!.args).toEqual(['watch', '/drops']);
  });

  it('KEDA keeps at least one pod per worker role and bounds the identity role', () => {
    const scaled = objects('overlays/production').filter((o) => o.kind === 'ScaledObject');
    const byName = new Map(scaled.map((o) => [o.metadata.name, o.spec as Record<string, number>]));
    for (const [name, spec] of byName) {
      expect(spec.minReplicaCount, name).toBeGreaterThanOrEqual(1);
      expect(spec.maxReplicaCount, name).toBeGreaterThanOrEqual(spec.minReplicaCount!);
    }
    // Enough in-flight calls for the shared limit (docs/scaling.md), and no more.
    const identity = byName.get('provision-identity-worker')!;
    expect(identity.maxReplicaCount).toBeLessThanOrEqual(8);
  });

  it('the dev Redis keeps every write (AOF) and never evicts', () => {
    const redis = objects('overlays/dev').find(
      (o) => o.kind === 'StatefulSet' && o.metadata.name === 'provision-redis',
    )!;
    const args = podSpecOf(redis).containers[0]!.args!;
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    const secrets = secretEnv('overlays/dev');
    expect(secrets.REDIS_URL).toBe('redis://provision-redis:6379');
    // Production uses an external Redis: no Redis object at all.
    expect(objects('overlays/production').filter((o) => /redis/i.test(o.metadata.name))).toEqual([]);
  });
});
