import type { Job } from '../../../types/kube.js';

/** The labels the Job controller puts on a Job's pod template (and so on every pod). */
export function controllerLabels(jobName: string, uid: string): Record<string, string> {
  return {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': jobName,
    'controller-uid': uid,
    'job-name': jobName,
  };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The problems the API server's validation would report for a Job body, as `field: problem`
 * (empty when valid). Only what matters to a Job run is checked: names, containers, restartPolicy.
 *
 * @param requireImage whether a container without `image` is refused (true on a real cluster).
 */
export function validateJob(namespace: string, job: Job, requireImage: boolean): string[] {
  const problems: string[] = [];
  const name = job.metadata?.name;
  if (!name) problems.push('metadata.name: Required value');
  else if (name.length > 63 || !DNS_SUBDOMAIN.test(name)) {
    problems.push(
      `metadata.name: Invalid value: "${name}": must be a DNS-1123 label of at most 63 characters`,
    );
  }
  if (job.metadata?.namespace !== undefined && job.metadata.namespace !== namespace) {
    problems.push(
      `metadata.namespace: Invalid value: "${job.metadata.namespace}": does not match the request namespace "${namespace}"`,
    );
  }
  const podSpec = job.spec?.template?.spec;
  const containers = podSpec?.containers ?? [];
  if (containers.length === 0) problems.push('spec.template.spec.containers: Required value');
  containers.forEach((c, i) => {
    if (!c.name) problems.push(`spec.template.spec.containers[${i}].name: Required value`);
    else if (!DNS_LABEL.test(c.name))
      problems.push(`spec.template.spec.containers[${i}].name: Invalid value: "${c.name}"`);
    if (requireImage && !c.image) problems.push(`spec.template.spec.containers[${i}].image: Required value`);
  });
  const restartPolicy = podSpec?.restartPolicy ?? 'Always';
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    problems.push(
      `spec.template.spec.restartPolicy: Unsupported value: "${restartPolicy}": supported values: "OnFailure", "Never"`,
    );
  }
  for (const field of ['backoffLimit', 'activeDeadlineSeconds'] as const) {
    const value = job.spec?.[field];
    if (value !== undefined && (!Number.isInteger(value) || value < (field === 'backoffLimit' ? 0 : 1))) {
      problems.push(
        `spec.${field}: Invalid value: ${JSON.stringify(value)}: must be ${field === 'backoffLimit' ? 'greater than or equal to 0' : 'greater than 0'}`,
      );
    }
  }
  return problems;
}

/**
 * The Job as the API server stores it on create: identity metadata, the defaulted spec (backoffLimit 6,
 * one completion), the controller's selector and pod template labels, an empty status.
 */
export function admitJob(namespace: string, job: Job, uid: string, timestamp: string): Job {
  const name = job.metadata.name!;
  const spec = job.spec!;
  const labels = controllerLabels(name, uid);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      ...structuredClone(job.metadata),
      namespace,
      uid,
      creationTimestamp: timestamp,
      generation: 1,
    },
    spec: {
      ...structuredClone(spec),
      backoffLimit: spec.backoffLimit ?? 6,
      completions: 1,
      parallelism: 1,
      completionMode: 'NonIndexed',
      suspend: spec.suspend ?? false,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: {
        ...structuredClone(spec.template),
        metadata: {
          ...structuredClone(spec.template.metadata ?? {}),
          labels: { ...spec.template.metadata?.labels, ...labels },
        },
      },
    },
    status: {},
  };
}
