import type { PodIntrospector, ServerPod } from '../../ports/pod-introspector.js';
import type { Pod } from '../../types/kube.js';
import type { KubeApi } from './kube-api.js';
import { readServiceAccountNamespace } from './kubeconfig.js';
import { segment } from './request.js';

/** Where the introspector finds this process's pod. */
export interface PodIntrospectorOptions {
  /** `KUBE_POD_NAME` (else `HOSTNAME`), `KUBE_NAMESPACE`, `MAGE_CONTAINER_NAME`, `KUBERNETES_SERVICE_HOST`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Holds the `namespace` file of in-cluster runs. @default "/var/run/secrets/kubernetes.io/serviceaccount" */
  serviceAccountDir?: string;
  /** Receives the debug-level reason whenever no pod is returned. */
  onDebug?: (reason: string) => void;
}

/**
 * Reads the pod this process runs in, for inheritance: its name from `KUBE_POD_NAME` (else `HOSTNAME`),
 * its namespace from `KUBE_NAMESPACE` (else the service account's namespace file), and the container
 * named by `MAGE_CONTAINER_NAME` (else the first one).
 *
 * Outside a cluster (no `KUBERNETES_SERVICE_HOST` and no explicit `KUBE_POD_NAME`), or when the pod does
 * not exist, it resolves undefined and {@link ClientNodePodIntrospector.lastReason} says why. A found pod
 * is cached: the pod a process runs in does not change.
 *
 * @example
 * const api = new KubeApi({ kubeconfig: loadKubeconfig() });
 * const server = await new ClientNodePodIntrospector(api).currentPod();
 */
export class ClientNodePodIntrospector implements PodIntrospector {
  private found: Promise<ServerPod | undefined> | undefined;
  private reason: string | undefined;

  constructor(
    private readonly api: KubeApi,
    private readonly options: PodIntrospectorOptions = {},
  ) {}

  /** Why the last {@link ClientNodePodIntrospector.currentPod} returned undefined (debug level). */
  get lastReason(): string | undefined {
    return this.reason;
  }

  /**
   * The current pod, or undefined when not in a pod or the pod is not found.
   * @throws ApiError `API_FORBIDDEN` when the service account may not read its own pod (inheritance
   *   would silently be lost otherwise), and other non-404 API failures.
   */
  currentPod(signal?: AbortSignal): Promise<ServerPod | undefined> {
    if (this.found) return this.found;
    const attempt = this.lookUp(signal);
    // Only a found pod is worth caching: "not found yet" and errors may change on the next call.
    this.found = attempt.then(
      (pod) => {
        if (!pod) this.found = undefined;
        return pod;
      },
      (e: unknown) => {
        this.found = undefined;
        throw e;
      },
    );
    return this.found;
  }

  private async lookUp(signal: AbortSignal | undefined): Promise<ServerPod | undefined> {
    const env = this.options.env ?? process.env;
    const explicitName = env.KUBE_POD_NAME;
    if (!explicitName && !env.KUBERNETES_SERVICE_HOST) {
      return this.none('not running in a cluster (KUBERNETES_SERVICE_HOST and KUBE_POD_NAME are not set)');
    }
    const name = explicitName || env.HOSTNAME;
    if (!name) return this.none('neither KUBE_POD_NAME nor HOSTNAME is set');
    const namespace = env.KUBE_NAMESPACE || readServiceAccountNamespace(this.options.serviceAccountDir);
    if (!namespace) {
      return this.none(
        'the pod namespace is unknown (KUBE_NAMESPACE is not set and there is no namespace file)',
      );
    }
    let pod: Pod;
    try {
      pod = await this.api.json<Pod>(
        { verb: 'get', resource: 'pods', group: '', namespace, name },
        { method: 'GET', path: `/api/v1/namespaces/${segment(namespace)}/pods/${segment(name)}`, signal },
      );
    } catch (e) {
      if ((e as { code?: unknown }).code === 'API_NOT_FOUND') {
        return this.none(`pod "${name}" was not found in namespace "${namespace}"`);
      }
      throw e;
    }
    this.reason = undefined;
    return { pod, containerName: this.containerName(pod, env.MAGE_CONTAINER_NAME) };
  }

  private containerName(pod: Pod, wanted: string | undefined): string {
    const names = (pod.spec?.containers ?? []).map((c) => c.name);
    if (wanted && names.includes(wanted)) return wanted;
    if (wanted) {
      this.debug(
        `MAGE_CONTAINER_NAME="${wanted}" is not a container of the pod (${names.join(', ')}); using the first`,
      );
    }
    return names[0] ?? '';
  }

  private none(reason: string): undefined {
    this.debug(reason);
    return undefined;
  }

  private debug(reason: string): void {
    this.reason = reason;
    this.options.onDebug?.(`server pod inheritance: ${reason}`);
  }
}
