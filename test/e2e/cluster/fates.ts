import { readFileSync } from 'node:fs';

/**
 * How a pod of the local e2e cluster ends. KWOK plays the kubelet and reads this from the
 * pod's annotations (see `kwok-stages.yaml`); on any other cluster the annotations do nothing.
 *
 * - `succeed`: Running, then Succeeded (container terminated, exit 0, reason `Completed`).
 *   With {@link FateOptions.terminationMessage}, the terminated container carries that `message`
 *   (so do `fail` and `oom`).
 * - `fail`: Running, then Failed (terminated, exit `exitCode`, reason `Error`).
 * - `oom`: Running, then Failed (terminated, exit 137, reason `OOMKilled`).
 * - `image-pull`: stays Pending, container waiting with reason `ImagePullBackOff`.
 * - `hang`: Running until the pod is deleted (then Failed, exit 137, and removed).
 */
export type Fate = 'succeed' | 'fail' | 'oom' | 'image-pull' | 'hang';

/** Pod annotation that selects the {@link Fate}; absent means `succeed`. */
export const FATE_ANNOTATION = 'e2e.k8s-executor/fate';
/** Pod annotation with the exit code of fate `fail` (a decimal string). @default "1" */
export const EXIT_CODE_ANNOTATION = 'e2e.k8s-executor/exit-code';
/** Pod annotation with how long the container runs before `succeed`/`fail`/`oom` end it. @default "1" */
export const RUN_SECONDS_ANNOTATION = 'e2e.k8s-executor/run-seconds';
/**
 * Pod annotation with what the container "wrote" to its termination message file: KWOK copies it into
 * `status.containerStatuses[*].state.terminated.message` when the pod ends (`succeed`, `fail`, `oom`).
 */
export const TERMINATION_MESSAGE_ANNOTATION = 'e2e.k8s-executor/termination-message';

/** What a test wants to happen to the pods of one Job. */
export interface FateOptions {
  readonly fate: Fate;
  /** Exit code for `fail`. @default 1 */
  readonly exitCode?: number;
  /** Seconds in Running before the container terminates. @default 1 */
  readonly runSeconds?: number;
  /** The container's termination message when it terminates (`{"rows": 3}` makes a block's `output`). */
  readonly terminationMessage?: string;
}

/**
 * The pod-template annotations that give every pod of a Job the wanted fate.
 *
 * @example
 * ```ts
 * job.spec.template.metadata.annotations = fateAnnotations({ fate: 'fail', exitCode: 3 });
 * ```
 */
export function fateAnnotations(options: FateOptions): Readonly<Record<string, string>> {
  return {
    [FATE_ANNOTATION]: options.fate,
    ...(options.exitCode === undefined ? {} : { [EXIT_CODE_ANNOTATION]: String(options.exitCode) }),
    ...(options.runSeconds === undefined ? {} : { [RUN_SECONDS_ANNOTATION]: String(options.runSeconds) }),
    ...(options.terminationMessage === undefined
      ? {}
      : { [TERMINATION_MESSAGE_ANNOTATION]: options.terminationMessage }),
  };
}

/**
 * True when `test/e2e/run.sh` started the KWOK cluster (it sets `E2E_KWOK_FATES=1`), i.e. when
 * pods follow their fate annotations. Tests that need a fate skip themselves otherwise.
 */
export function kwokFatesAvailable(): boolean {
  return process.env['E2E_KWOK_FATES'] === '1';
}

/** One line of the log every container of the KWOK cluster "printed". */
export interface KnownLogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/**
 * The lines the API server returns for `GET …/pods/<pod>/log` of any container on the KWOK
 * cluster, in order: `pod-logs/container.log` (CRI format) without timestamps and tags.
 */
export function knownLogLines(): readonly KnownLogLine[] {
  const file = readFileSync(new URL('./pod-logs/container.log', import.meta.url), 'utf8');
  return file
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      // "<RFC3339Nano> <stream> <F|P> <text>"
      const [, stream, , ...text] = line.split(' ');
      return { stream: stream === 'stderr' ? 'stderr' : 'stdout', text: text.join(' ') };
    });
}
