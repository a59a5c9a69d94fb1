// Cluster objects and a fake ClusterInspector for the preflight tests: no IO, every answer scripted.
import { ApiError, type ApiOperation } from '../../src/errors/api-error.js';
import type {
  AccessReview,
  ClusterInspector,
  KubeNode,
  LimitRange,
  ObjectSummary,
  PersistentVolumeClaim,
  ResourceAttributes,
  ResourceQuota,
  StoredKeys,
  Taint,
} from '../../src/ports/cluster-inspector.js';
import type { CallOptions } from '../../src/ports/job-client.js';
import type { Job, JsonObject } from '../../src/types/kube.js';

/** A Job whose pod template spec is `spec` (one container `main` unless `spec.containers` is given). */
export function jobWith(
  spec: JsonObject = {},
  namespace = 'ml',
  name = 'mage-data-prep-block-preflight-load',
): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace },
    spec: {
      template: {
        spec: { containers: [{ name: 'main', image: 'x/y:1' }], restartPolicy: 'Never', ...spec },
      },
    },
  };
}

/** A container with requests and limits. */
export function container(
  name: string,
  resources: { requests?: Record<string, string>; limits?: Record<string, string> } = {},
  extra: JsonObject = {},
): JsonObject {
  return { name, image: 'x/y:1', resources, ...extra };
}

/** A Node. */
export function node(
  name: string,
  options: {
    labels?: Record<string, string>;
    taints?: Taint[];
    allocatable?: Record<string, string>;
    unschedulable?: boolean;
  } = {},
): KubeNode {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...options.labels } },
    spec: {
      ...(options.taints ? { taints: options.taints } : {}),
      ...(options.unschedulable ? { unschedulable: true } : {}),
    },
    status: { allocatable: options.allocatable ?? { cpu: '4', memory: '16Gi', pods: '110' } },
  };
}

/** A ResourceQuota with `hard` (and `used`, when the quota controller has computed it). */
export function quota(
  name: string,
  hard: Record<string, string>,
  used?: Record<string, string>,
  spec: Partial<NonNullable<ResourceQuota['spec']>> = {},
): ResourceQuota {
  return {
    metadata: { name, namespace: 'ml' },
    spec: { hard, ...spec },
    ...(used ? { status: { hard, used } } : {}),
  };
}

/** A 403 as the adapter classifies it. */
export function forbidden(op: ApiOperation): ApiError {
  return new ApiError(
    'API_FORBIDDEN',
    `Forbidden (403): the executor's identity cannot "${op.verb}" "${op.resource}" (group "${op.group}") in namespace "${op.namespace}": grant it ...; see docs/rbac.md. The server said: ${op.resource} is forbidden: User "system:serviceaccount:ml:runner" cannot ${op.verb} resource "${op.resource}" in API group "${op.group}" in the namespace "${op.namespace}"`,
    { status: 403, operation: op },
  );
}

/** What the fake cluster holds. */
export interface FakeCluster {
  namespaces?: string[];
  serviceAccounts?: string[];
  secrets?: Record<string, { keys: string[]; type?: string }>;
  configMaps?: Record<string, string[]>;
  claims?: Record<string, { phase?: string; accessModes?: string[] }>;
  quotas?: ResourceQuota[];
  limitRanges?: LimitRange[];
  nodes?: KubeNode[];
  /** Verbs the identity lacks, as `verb resource` (`delete jobs`, `get pods/log`). */
  denied?: string[];
  /** The error of the dry run, when it fails. */
  dryRunError?: unknown;
  /** Resources (as RBAC names them: `secrets`, `nodes`, `selfsubjectaccessreviews`, `jobs`) whose reads get a 403. */
  forbid?: string[];
}

/** One namespace `ml` with the `default` ServiceAccount and one roomy node. */
export const GOOD_CLUSTER: FakeCluster = {
  namespaces: ['ml'],
  serviceAccounts: ['default'],
  nodes: [node('node-1')],
};

/** A ClusterInspector over a {@link FakeCluster}, counting its calls by `verb resource`. */
export class FakeInspector implements ClusterInspector {
  readonly calls = new Map<string, number>();

  constructor(private readonly cluster: FakeCluster = GOOD_CLUSTER) {}

  async getNamespace(name: string): Promise<ObjectSummary | undefined> {
    this.check({ verb: 'get', resource: 'namespaces', group: '', name });
    return this.cluster.namespaces?.includes(name) ? { metadata: { name } } : undefined;
  }

  async getServiceAccount(namespace: string, name: string): Promise<ObjectSummary | undefined> {
    this.check({ verb: 'get', resource: 'serviceaccounts', group: '', namespace, name });
    return this.cluster.serviceAccounts?.includes(name) ? { metadata: { name, namespace } } : undefined;
  }

  async getSecretKeys(namespace: string, name: string): Promise<StoredKeys | undefined> {
    this.check({ verb: 'get', resource: 'secrets', group: '', namespace, name });
    const secret = this.cluster.secrets?.[name];
    return secret ? { name, keys: secret.keys, type: secret.type ?? 'Opaque' } : undefined;
  }

  async getConfigMapKeys(namespace: string, name: string): Promise<StoredKeys | undefined> {
    this.check({ verb: 'get', resource: 'configmaps', group: '', namespace, name });
    const keys = this.cluster.configMaps?.[name];
    return keys ? { name, keys } : undefined;
  }

  async getPersistentVolumeClaim(
    namespace: string,
    name: string,
  ): Promise<PersistentVolumeClaim | undefined> {
    this.check({ verb: 'get', resource: 'persistentvolumeclaims', group: '', namespace, name });
    const claim = this.cluster.claims?.[name];
    return claim
      ? {
          metadata: { name, namespace },
          spec: { accessModes: claim.accessModes ?? ['ReadWriteOnce'] },
          status: { phase: claim.phase ?? 'Bound', accessModes: claim.accessModes ?? ['ReadWriteOnce'] },
        }
      : undefined;
  }

  async listResourceQuotas(namespace: string): Promise<ResourceQuota[]> {
    this.check({ verb: 'list', resource: 'resourcequotas', group: '', namespace });
    return this.cluster.quotas ?? [];
  }

  async listLimitRanges(namespace: string): Promise<LimitRange[]> {
    this.check({ verb: 'list', resource: 'limitranges', group: '', namespace });
    return this.cluster.limitRanges ?? [];
  }

  async listNodes(): Promise<KubeNode[]> {
    this.check({ verb: 'list', resource: 'nodes', group: '' });
    return this.cluster.nodes ?? [];
  }

  async reviewAccess(attributes: ResourceAttributes): Promise<AccessReview> {
    this.check({ verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' });
    const resource = attributes.subresource
      ? `${attributes.resource}/${attributes.subresource}`
      : attributes.resource;
    return { allowed: !(this.cluster.denied ?? []).includes(`${attributes.verb} ${resource}`) };
  }

  async dryRunCreateJob(namespace: string, job: Job, _options?: CallOptions): Promise<Job> {
    this.check({
      verb: 'create',
      resource: 'jobs',
      group: 'batch',
      namespace,
      name: job.metadata.name ?? '',
    });
    if (this.cluster.dryRunError) throw this.cluster.dryRunError;
    return job;
  }

  private check(op: ApiOperation): void {
    const key = `${op.verb} ${op.resource}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    if (this.cluster.forbid?.includes(op.resource)) throw forbidden(op);
  }
}
