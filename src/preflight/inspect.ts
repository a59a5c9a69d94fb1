import { isK8sExecutorError } from '../errors/base.js';
import type {
  AccessReview,
  ClusterInspector,
  LimitRange,
  ObjectSummary,
  PersistentVolumeClaim,
  ResourceQuota,
  StoredKeys,
} from '../ports/cluster-inspector.js';
import type { CallOptions } from '../ports/job-client.js';
import type { Job } from '../types/kube.js';
import { checkDryRun } from './dry-run.js';
import {
  type AccessNeed,
  accessAttributes,
  checkAccess,
  EXECUTOR_ACCESS,
  type NeedReview,
} from './executor-access.js';
import { checkLimitRanges, withLimitRangeDefaults } from './limit-range.js';
import { checkNodeFit } from './node-fit.js';
import { type PodContainer, type PodView, podTotal, podViewOf } from './pod-spec.js';
import { checkQuotas, quotaCharge } from './quota.js';
import { notChecked, type Read, readFailed, readOk } from './reads.js';
import {
  checkClaims,
  checkImagePullSecrets,
  checkKeyedObjects,
  checkNamespace,
  checkServiceAccount,
} from './reference-checks.js';
import { collectReferences, type JobReferences } from './references.js';
import { type BlockPreflight, CHECKS, type CheckName, type Finding, worstStatus } from './types.js';

/** One Job to check: what a block (or the whole pipeline) would create. */
export interface PreflightTarget {
  /** The block's uuid (the pipeline's for a single-job run). */
  block: string;
  /** The Job exactly as the run would send it. */
  job: Job;
  /** Its name. */
  jobName: string;
  /** Its namespace. */
  namespace: string;
}

/** Options of {@link inspectJobs}. */
export interface InspectOptions {
  /** Aborts every read. */
  signal?: AbortSignal;
  /** The namespace of the server pod, when the executor inherits from one (`get pods` is needed there). */
  serverPodNamespace?: string;
}

/**
 * Checks each Job against the cluster, reading through `inspector` only (nothing is created): the
 * dry run, RBAC, the namespace, service account, Secrets, ConfigMaps, claims and image pull Secrets it
 * refers to, LimitRanges, ResourceQuotas, and whether any node can run its pod. Each object is read once
 * for all Jobs. A read that fails makes its check `not-checked` with the reason (for a 403, the verb
 * and resource missing); only a cluster that cannot be reached at all, or credentials it refuses, throw.
 *
 * @throws K8sExecutorError `NO_CLUSTER`, ApiError `API_UNAUTHORIZED`, or the `API_UNAVAILABLE` of the
 *   first request; the signal's reason when aborted.
 */
export async function inspectJobs(
  inspector: ClusterInspector,
  targets: readonly PreflightTarget[],
  options: InspectOptions = {},
): Promise<BlockPreflight[]> {
  const { signal } = options;
  const memo = new Map<string, Promise<Read<unknown>>>();
  const read = <T>(key: string, call: (o: CallOptions) => Promise<T>): Promise<Read<T>> => {
    let found = memo.get(key) as Promise<Read<T>> | undefined;
    if (!found) {
      found = call(signal ? { signal } : {}).then(readOk, (error: unknown) => {
        if (signal?.aborted) throw signal.reason;
        if (isFatal(error)) throw error;
        return readFailed<T>(error);
      });
      memo.set(key, found);
    }
    return found;
  };
  const review = (need: AccessNeed, namespace: string): Promise<Read<AccessReview>> =>
    read(`access ${namespace} ${need.verb} ${need.group}/${need.resource}`, (o) =>
      inspector.reviewAccess(accessAttributes(need, namespace), o),
    );
  const reviews = (namespace: string, needs: readonly AccessNeed[]) =>
    Promise.all(
      needs.map(
        async (need): Promise<NeedReview> => ({ need, namespace, review: await review(need, namespace) }),
      ),
    );

  // One request first (the first review): a cluster that cannot be reached says so once, not per check.
  const first = targets[0];
  if (first) {
    const probe = await review(EXECUTOR_ACCESS[0]!, first.namespace);
    if (!probe.ok && isK8sExecutorError(probe.error) && probe.error.code === 'API_UNAVAILABLE')
      throw probe.error;
  }

  const claimUsers = new Map<string, string[]>();
  const prepared = targets.map((target) => {
    const pod = podViewOf(target.job);
    const references = collectReferences(pod);
    for (const name of new Set(references.claims.map((c) => c.name))) {
      const key = `${target.namespace}/${name}`;
      claimUsers.set(key, [...(claimUsers.get(key) ?? []), target.block]);
    }
    return { target, pod, references };
  });

  const jobNamespaceNeeds = EXECUTOR_ACCESS.filter((n) => n.scope === 'job-namespace');
  const serverPodNeeds = EXECUTOR_ACCESS.filter((n) => n.scope === 'server-pod-namespace');
  return Promise.all(
    prepared.map(async ({ target, pod, references }): Promise<BlockPreflight> => {
      const { namespace } = target;
      const [dryRun, access, serverAccess, namespaceRead, nodes] = await Promise.all([
        read(`dry-run ${namespace}/${target.jobName}`, (o) =>
          inspector.dryRunCreateJob(namespace, target.job, o),
        ),
        reviews(namespace, jobNamespaceNeeds),
        options.serverPodNamespace ? reviews(options.serverPodNamespace, serverPodNeeds) : [],
        read(`namespace ${namespace}`, (o) => inspector.getNamespace(namespace, o)),
        read('nodes', (o) => inspector.listNodes(o)),
      ]);
      const findings: Finding[] = [
        checkDryRun(target.jobName, namespace, dryRun),
        ...checkAccess([...access, ...serverAccess]),
        checkNamespace(namespace, namespaceRead),
      ];
      let containers = pod.containers;
      if (namespaceRead.ok && namespaceRead.value === undefined) {
        for (const check of CHECKS.filter((c) => NAMESPACED.has(c)))
          findings.push({
            check,
            status: 'not-checked',
            message: `not checked: namespace "${namespace}" does not exist.`,
          });
      } else {
        const others = (claim: string) =>
          (claimUsers.get(`${namespace}/${claim}`) ?? []).filter((b) => b !== target.block);
        const sharedWith = new Map(references.claims.map((c) => [c.name, others(c.name)]));
        const objects = await readObjects(inspector, read, namespace, references);
        findings.push(...referenceFindings(namespace, references, objects, sharedWith));
        const admitted = admissionFindings(namespace, pod, objects);
        containers = admitted.containers;
        findings.push(...admitted.findings);
      }
      const requests = podTotal(containers, 'requests', pod.overhead);
      findings.push(
        nodes.ok
          ? checkNodeFit(pod, requests, nodes.value)
          : notChecked('node-fit', 'the nodes', nodes.error),
      );
      const ordered = CHECKS.flatMap((check) => findings.filter((f) => f.check === check));
      return {
        block: target.block,
        jobName: target.jobName,
        namespace,
        status: worstStatus(ordered.map((f) => f.status)),
        findings: ordered,
      };
    }),
  );
}

/** The checks of objects inside the Job's namespace. */
const NAMESPACED: ReadonlySet<CheckName> = new Set([
  'service-account',
  'secret',
  'configmap',
  'pvc',
  'image-pull-secret',
  'limit-range',
  'quota',
]);

type Reader = <T>(key: string, call: (o: CallOptions) => Promise<T>) => Promise<Read<T>>;

/** Everything one Job's namespaced checks read, each object once per run of preflight. */
interface NamespaceObjects {
  serviceAccount: Read<ObjectSummary | undefined>;
  secrets: Map<string, Read<StoredKeys | undefined>>;
  configMaps: Map<string, Read<StoredKeys | undefined>>;
  claims: Map<string, Read<PersistentVolumeClaim | undefined>>;
  limitRanges: Read<LimitRange[]>;
  quotas: Read<ResourceQuota[]>;
}

async function readObjects(
  inspector: ClusterInspector,
  read: Reader,
  namespace: string,
  references: JobReferences,
): Promise<NamespaceObjects> {
  const each = async <T>(
    names: Iterable<string>,
    kind: string,
    call: (name: string, o: CallOptions) => Promise<T>,
  ) =>
    new Map(
      await Promise.all(
        [...new Set(names)].map(
          async (name) => [name, await read(`${kind} ${namespace}/${name}`, (o) => call(name, o))] as const,
        ),
      ),
    );
  const [serviceAccount, secrets, configMaps, claims, limitRanges, quotas] = await Promise.all([
    read(`serviceaccount ${namespace}/${references.serviceAccountName}`, (o) =>
      inspector.getServiceAccount(namespace, references.serviceAccountName, o),
    ),
    each([...references.secrets.map((s) => s.name), ...references.imagePullSecrets], 'secret', (name, o) =>
      inspector.getSecretKeys(namespace, name, o),
    ),
    each(
      references.configMaps.map((c) => c.name),
      'configmap',
      (name, o) => inspector.getConfigMapKeys(namespace, name, o),
    ),
    each(
      references.claims.map((c) => c.name),
      'pvc',
      (name, o) => inspector.getPersistentVolumeClaim(namespace, name, o),
    ),
    read(`limitranges ${namespace}`, (o) => inspector.listLimitRanges(namespace, o)),
    read(`resourcequotas ${namespace}`, (o) => inspector.listResourceQuotas(namespace, o)),
  ]);
  return { serviceAccount, secrets, configMaps, claims, limitRanges, quotas };
}

/** The service account, Secret, ConfigMap, claim and image pull Secret findings ("none" when there is none). */
function referenceFindings(
  namespace: string,
  references: JobReferences,
  objects: NamespaceObjects,
  sharedWith: ReadonlyMap<string, readonly string[]>,
): Finding[] {
  const none = (check: CheckName, what: string): Finding[] => [
    { check, status: 'ok', message: `the pod refers to no ${what}.` },
  ];
  const orNone = (findings: Finding[], check: CheckName, what: string) =>
    findings.length > 0 ? findings : none(check, what);
  return [
    checkServiceAccount(namespace, references.serviceAccountName, objects.serviceAccount),
    ...orNone(checkKeyedObjects(namespace, references.secrets, objects.secrets), 'secret', 'Secret'),
    ...orNone(
      checkKeyedObjects(namespace, references.configMaps, objects.configMaps),
      'configmap',
      'ConfigMap',
    ),
    ...orNone(
      checkClaims(namespace, references.claims, objects.claims, sharedWith),
      'pvc',
      'PersistentVolumeClaim',
    ),
    ...orNone(
      checkImagePullSecrets(namespace, references.imagePullSecrets, objects.secrets),
      'image-pull-secret',
      'image pull Secret',
    ),
  ];
}

/**
 * The `limit-range` and `quota` findings, and the containers as admission leaves them (LimitRange
 * defaults filled in, when the LimitRanges could be read): quotas and nodes see those.
 */
function admissionFindings(
  namespace: string,
  pod: PodView,
  objects: Pick<NamespaceObjects, 'limitRanges' | 'quotas'>,
): { findings: Finding[]; containers: PodContainer[] } {
  const { limitRanges, quotas } = objects;
  const containers = limitRanges.ok
    ? withLimitRangeDefaults(pod.containers, limitRanges.value)
    : pod.containers;
  return {
    containers,
    findings: [
      ...(limitRanges.ok
        ? checkLimitRanges(namespace, containers, pod.overhead, limitRanges.value)
        : [notChecked('limit-range', `the LimitRanges of namespace "${namespace}"`, limitRanges.error)]),
      ...(quotas.ok
        ? checkQuotas(namespace, pod, containers, quotaCharge(containers, pod.overhead), quotas.value)
        : [notChecked('quota', `the ResourceQuotas of namespace "${namespace}"`, quotas.error)]),
    ],
  };
}

/** Failures after which no check can say anything: no cluster, or credentials the API server refuses. */
function isFatal(error: unknown): boolean {
  return isK8sExecutorError(error) && (error.code === 'NO_CLUSTER' || error.code === 'API_UNAUTHORIZED');
}
