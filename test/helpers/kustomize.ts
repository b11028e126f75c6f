import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const KUBERNETES_DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));

export function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** A rendered Kubernetes object, loosely typed: tests look into it field by field. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: unknown[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  timeoutSeconds?: number;
}

export interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  volumes?: { name: string; emptyDir?: unknown; persistentVolumeClaim?: { claimName: string } }[];
}

/** `kubectl kustomize deploy/kubernetes/<dir>`, parsed. Throws with kubectl's message. */
export function renderKustomization(dir: string): K8sObject[] {
  const res = spawnSync('kubectl', ['kustomize', `${KUBERNETES_DIR}${dir}`], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${res.stderr || res.error?.message}`);
  return parseAllDocuments(res.stdout).map((d) => d.toJSON() as K8sObject);
}

export function podSpecOf(o: K8sObject): PodSpec {
  return (o.spec as { template: { spec: PodSpec } }).template.spec;
}

/** The pipeline's Deployments by role (`server`, `identity-worker`, ...). */
export function deploymentsByRole(objects: K8sObject[]): Map<string, K8sObject> {
  return new Map(
    objects
      .filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('provision-'))
      .map((o) => [o.metadata.name.slice('provision-'.length), o]),
  );
}
