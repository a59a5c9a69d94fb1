import type { Pod } from '../types/kube.js';

/** The pod this process runs in, for inheritance (image, env, volumes, scheduling). */
export interface ServerPod {
  /** The pod as read from the API server. */
  pod: Pod;
  /** The name of the container this process runs in (`MAGE_CONTAINER_NAME`, else the first). */
  containerName: string;
}

/** Finds the pod this process runs in. */
export interface PodIntrospector {
  /** The current pod, or undefined when not running in a pod (or inheritance cannot read it). */
  currentPod(signal?: AbortSignal): Promise<ServerPod | undefined>;
}
