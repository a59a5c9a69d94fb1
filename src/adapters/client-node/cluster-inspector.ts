import type { ApiOperation } from '../../errors/api-error.js';
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
} from '../../ports/cluster-inspector.js';
import type { CallOptions } from '../../ports/job-client.js';
import type { Job } from '../../types/kube.js';
import { type ClientNodeJobClient, LIST_PAGE_SIZE } from './job-client.js';
import type { KubeApi } from './kube-api.js';
import { segment } from './request.js';

/** A list reply of the API server. */
interface KubeList<T> {
  items?: T[];
  metadata?: { continue?: string };
}

/** A Secret or ConfigMap as served: only the key names of its data maps are kept. */
interface KeyedObject {
  metadata?: { name?: string };
  type?: string;
  data?: Record<string, unknown>;
  binaryData?: Record<string, unknown>;
}

/**
 * The {@link ClusterInspector} of a real cluster, over the same {@link KubeApi} as the JobClient (rate
 * limit, retries, classification, keep-alive pool). Only reads, SelfSubjectAccessReviews and dry runs:
 * it never creates, changes or deletes anything. Secrets are read whole by the API (there is no
 * keys-only read) and reduced to their key names here, so their values never leave this class.
 *
 * @example
 * const { clusterInspector } = createClientNodeAdapters({ context: 'staging' });
 * const { allowed } = await clusterInspector.reviewAccess({ namespace: 'ml', verb: 'create', group: 'batch', resource: 'jobs' });
 */
export class ClientNodeClusterInspector implements ClusterInspector {
  constructor(
    private readonly api: KubeApi,
    private readonly jobs: ClientNodeJobClient,
  ) {}

  /** `GET /api/v1/namespaces/{name}`; undefined on 404. @throws ApiError */
  getNamespace(name: string, options: CallOptions = {}): Promise<ObjectSummary | undefined> {
    return this.get(
      { verb: 'get', resource: 'namespaces', group: '', name },
      `/api/v1/namespaces/${segment(name)}`,
      options,
    );
  }

  /** Reads a ServiceAccount; undefined on 404. @throws ApiError */
  getServiceAccount(
    namespace: string,
    name: string,
    options: CallOptions = {},
  ): Promise<ObjectSummary | undefined> {
    return this.getCore(namespace, 'serviceaccounts', name, options);
  }

  /** Reads a Secret and keeps its type and key names only; undefined on 404. @throws ApiError */
  async getSecretKeys(
    namespace: string,
    name: string,
    options: CallOptions = {},
  ): Promise<StoredKeys | undefined> {
    const secret = await this.getCore<KeyedObject>(namespace, 'secrets', name, options);
    return (
      secret && { ...keysOf(name, secret), type: typeof secret.type === 'string' ? secret.type : 'Opaque' }
    );
  }

  /** Reads a ConfigMap and keeps its key names only; undefined on 404. @throws ApiError */
  async getConfigMapKeys(
    namespace: string,
    name: string,
    options: CallOptions = {},
  ): Promise<StoredKeys | undefined> {
    const configMap = await this.getCore<KeyedObject>(namespace, 'configmaps', name, options);
    return configMap && keysOf(name, configMap);
  }

  /** Reads a PersistentVolumeClaim; undefined on 404. @throws ApiError */
  getPersistentVolumeClaim(
    namespace: string,
    name: string,
    options: CallOptions = {},
  ): Promise<PersistentVolumeClaim | undefined> {
    return this.getCore(namespace, 'persistentvolumeclaims', name, options);
  }

  /** Lists the ResourceQuotas of a namespace (every page). @throws ApiError */
  listResourceQuotas(namespace: string, options: CallOptions = {}): Promise<ResourceQuota[]> {
    return this.list(
      { verb: 'list', resource: 'resourcequotas', group: '', namespace },
      corePath(namespace, 'resourcequotas'),
      options,
    );
  }

  /** Lists the LimitRanges of a namespace (every page). @throws ApiError */
  listLimitRanges(namespace: string, options: CallOptions = {}): Promise<LimitRange[]> {
    return this.list(
      { verb: 'list', resource: 'limitranges', group: '', namespace },
      corePath(namespace, 'limitranges'),
      options,
    );
  }

  /** Lists every Node (every page). @throws ApiError */
  listNodes(options: CallOptions = {}): Promise<KubeNode[]> {
    return this.list({ verb: 'list', resource: 'nodes', group: '' }, '/api/v1/nodes', options);
  }

  /** `POST .../selfsubjectaccessreviews`: may the caller's own identity do it? @throws ApiError */
  async reviewAccess(attributes: ResourceAttributes, options: CallOptions = {}): Promise<AccessReview> {
    const reply = await this.api.json<{ status?: Partial<AccessReview> }>(
      { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
      {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: attributes },
        },
        signal: options.signal,
      },
    );
    const status = reply.status ?? {};
    return {
      allowed: status.allowed === true,
      ...(status.denied === true ? { denied: true } : {}),
      ...(status.reason ? { reason: status.reason } : {}),
      ...(status.evaluationError ? { evaluationError: status.evaluationError } : {}),
    };
  }

  /** Creates the Job with `dryRun=All` and `fieldValidation=Strict`. @throws ApiError as `createJob` does */
  dryRunCreateJob(namespace: string, job: Job, options: CallOptions = {}): Promise<Job> {
    return this.jobs.createJob(namespace, job, { ...options, dryRun: true, fieldValidation: 'Strict' });
  }

  private getCore<T>(
    namespace: string,
    resource: string,
    name: string,
    options: CallOptions,
  ): Promise<T | undefined> {
    return this.get<T>(
      { verb: 'get', resource, group: '', namespace, name },
      `${corePath(namespace, resource)}/${segment(name)}`,
      options,
    );
  }

  private async get<T>(op: ApiOperation, path: string, options: CallOptions): Promise<T | undefined> {
    try {
      return await this.api.json<T>(op, { method: 'GET', path, signal: options.signal });
    } catch (e) {
      if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'API_NOT_FOUND')
        return undefined;
      throw e;
    }
  }

  /** Reads a list to its end, page by page. */
  private async list<T>(op: ApiOperation, path: string, options: CallOptions): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const page: KubeList<T> = await this.api.json<KubeList<T>>(op, {
        method: 'GET',
        path,
        query: { limit: LIST_PAGE_SIZE, continue: token },
        signal: options.signal,
      });
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  }
}

function corePath(namespace: string, resource: string): string {
  return `/api/v1/namespaces/${segment(namespace)}/${resource}`;
}

/** The key names of `data` and `binaryData`, sorted: the values are dropped here. */
function keysOf(name: string, object: KeyedObject): StoredKeys {
  const keys = [...Object.keys(object.data ?? {}), ...Object.keys(object.binaryData ?? {})];
  return { name, keys: [...new Set(keys)].sort() };
}
