import { describe, expect, it } from 'vitest';
import { POD_IDENTITY_ENV } from '../../src/config/identity-env.js';
import {
  DISRUPTION_POLICY,
  explainConfig,
  POD_IDENTITY_ENV_NAMES,
  type ResolveInput,
  resolveConfig,
} from '../../src/config/index.js';
import { ConfigError, type ConfigIssue } from '../../src/errors/config-error.js';
import type { ServerPod } from '../../src/ports/pod-introspector.js';
import {
  BLOCK_RUN,
  pipelineWithBlock,
  projectWith,
  type SnapshotFiles,
  snapshotOf,
} from './snapshot-helper.js';

const IMAGE = 'image: img:1';

function resolve(files: SnapshotFiles, extra: Partial<ResolveInput> = {}) {
  return resolveConfig({
    snapshot: snapshotOf({ project: projectWith(IMAGE), pipeline: pipelineWithBlock(''), ...files }),
    mode: 'block',
    identity: BLOCK_RUN,
    ...extra,
  });
}

function issuesOf(files: SnapshotFiles): ConfigIssue[] {
  try {
    resolve(files);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

const envNames = (env: unknown) => (env as { name: string }[]).map((e) => e.name);

describe('pod identity env (built-in)', () => {
  it('gives every Job the pod, node and service account through the downward API, and the flag', () => {
    const { config } = resolve({});
    expect(config.container.env).toEqual([
      { name: 'K8S_EXECUTOR', value: '1' },
      { name: 'K8S_EXECUTOR_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'K8S_EXECUTOR_POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'K8S_EXECUTOR_POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
      { name: 'K8S_EXECUTOR_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'K8S_EXECUTOR_NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      {
        name: 'K8S_EXECUTOR_SERVICE_ACCOUNT',
        valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } },
      },
      { name: 'K8S_EXECUTOR_TERMINATION_MESSAGE_PATH', value: '/dev/termination-log' },
    ]);
    expect(Object.values(POD_IDENTITY_ENV_NAMES)).toEqual(envNames(config.container.env));
  });

  it('whole-pipeline Jobs get them too', () => {
    expect(resolve({}, { mode: 'pipeline' }).config.container.env).toEqual(POD_IDENTITY_ENV);
  });

  it("comes after the user's variables; a variable the user sets keeps the user's value", () => {
    const { config, provenance } = resolve({
      pipeline: pipelineWithBlock(
        'container:\n  env: [{name: A, value: "1"}, {name: K8S_EXECUTOR_NODE_NAME, value: mine}]',
      ),
    });
    const env = config.container.env as { name: string; value?: string }[];
    expect(env[0]).toEqual({ name: 'A', value: '1' });
    expect(env.find((e) => e.name === 'K8S_EXECUTOR_NODE_NAME')).toEqual({
      name: 'K8S_EXECUTOR_NODE_NAME',
      value: 'mine',
    });
    expect(envNames(env).filter((n) => n === 'K8S_EXECUTOR_NODE_NAME')).toHaveLength(1);
    expect(provenance['container.env[K8S_EXECUTOR_NODE_NAME]']?.layer).toBe('block');
    expect(provenance['container.env[K8S_EXECUTOR_POD_NAME]']?.layer).toBe('built-in');
  });

  it('explain shows them as built-ins, with their values (they hold no secret)', () => {
    const rows = explainConfig(
      resolve({ project: projectWith(`${IMAGE}\ncontainer: {env: [{name: S, value: x}]}`) }),
    );
    expect(rows.find((r) => r.path === 'container.env[K8S_EXECUTOR]')).toEqual({
      path: 'container.env[K8S_EXECUTOR]',
      value: { name: 'K8S_EXECUTOR', value: '1' },
      origin: { layer: 'built-in' },
    });
    expect(rows.find((r) => r.path === 'container.env[K8S_EXECUTOR_NODE_IP]')?.origin.layer).toBe('built-in');
    expect(rows.find((r) => r.path === 'container.env[S]')?.value).toEqual({ name: 'S', value: '***' });
  });
});

describe('TMPDIR on tmpfs', () => {
  const tmpdir = (files: SnapshotFiles) =>
    (resolve(files).config.container.env as { name: string; value?: string }[]).find(
      (e) => e.name === 'TMPDIR',
    );

  it('points at the tmpfs mount with use_tmpfs (default path /tmp), set where use_tmpfs is', () => {
    const { config, provenance } = resolve({ pipeline: pipelineWithBlock('use_tmpfs: true') });
    const env = config.container.env as { name: string }[];
    expect(env.find((e) => e.name === 'TMPDIR')).toEqual({ name: 'TMPDIR', value: '/tmp' });
    // after the user's variables, before the executor's own
    expect(envNames(env).indexOf('TMPDIR')).toBe(0);
    expect(provenance['container.env[TMPDIR]']).toMatchObject({
      layer: 'block',
      sourcePath: 'blocks[0].executor_config.use_tmpfs',
    });
  });

  it('follows tmpfs_path, in whichever layer the tmpfs is', () => {
    expect(tmpdir({ project: projectWith(`${IMAGE}\ntmpfs_path: /scratch`) })).toEqual({
      name: 'TMPDIR',
      value: '/scratch',
    });
  });

  it('is not set with tmpfs_tempdir: false (in any layer), nor without a tmpfs', () => {
    expect(tmpdir({ pipeline: pipelineWithBlock('use_tmpfs: true\ntmpfs_tempdir: false') })).toBeUndefined();
    expect(
      tmpdir({
        project: projectWith(`${IMAGE}\ntmpfs_tempdir: no`),
        pipeline: pipelineWithBlock('use_tmpfs: true'),
      }),
    ).toBeUndefined();
    expect(tmpdir({})).toBeUndefined();
    expect(tmpdir({ pipeline: pipelineWithBlock('tmpfs_tempdir: true') })).toBeUndefined();
  });

  it('leaves a TMPDIR the user sets (in any layer, or inherited from the server pod)', () => {
    expect(
      tmpdir({
        project: projectWith(`${IMAGE}\ncontainer: {env: [{name: TMPDIR, value: /var/tmp}]}`),
        pipeline: pipelineWithBlock('use_tmpfs: true'),
      }),
    ).toEqual({ name: 'TMPDIR', value: '/var/tmp' });
    const serverPod: ServerPod = {
      containerName: 'm',
      pod: {
        metadata: { name: 'mage-0' },
        spec: { containers: [{ name: 'm', image: 'img:1', env: [{ name: 'TMPDIR', value: '/srv' }] }] },
      },
    };
    const { config } = resolve({ pipeline: pipelineWithBlock('use_tmpfs: true') }, { serverPod });
    expect(
      (config.container.env as { name: string; value?: string }[]).filter((e) => e.name === 'TMPDIR'),
    ).toEqual([{ name: 'TMPDIR', value: '/srv' }]);
  });

  it('rejects a tmpfs_tempdir that is not a boolean', () => {
    expect(issuesOf({ pipeline: pipelineWithBlock('tmpfs_tempdir: maybe') })).toMatchObject([
      { code: 'INVALID_TYPE', path: 'blocks[0].executor_config.tmpfs_tempdir' },
    ]);
  });
});

describe('terminationMessagePolicy (built-in)', () => {
  it('is FallbackToLogsOnError unless the user sets it', () => {
    expect(resolve({}).config.container.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    const mine = resolve({ pipeline: pipelineWithBlock('container: {termination_message_policy: File}') });
    expect(mine.config.container.terminationMessagePolicy).toBe('File');
    expect(mine.provenance['container.terminationMessagePolicy']?.layer).toBe('block');
  });
});

describe('podFailurePolicy: disruptions do not spend backoffLimit', () => {
  it('is built in when the user sets none', () => {
    const { config, provenance } = resolve({});
    expect(config.job?.podFailurePolicy).toEqual(DISRUPTION_POLICY);
    expect(DISRUPTION_POLICY).toEqual({
      rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
    });
    expect(provenance['job.podFailurePolicy.rules']).toEqual({ layer: 'built-in' });
  });

  it("is the user's own when the user sets one (the rules replace the built-in ones whole)", () => {
    const { config } = resolve({
      pipeline: pipelineWithBlock(
        'job:\n  pod_failure_policy:\n    rules: [{action: FailJob, on_exit_codes: {operator: In, values: [42]}}]',
      ),
    });
    expect(config.job?.podFailurePolicy).toEqual({
      rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }],
    });
  });

  it('is left out with retry_disruptions: false, and where the pod restarts OnFailure', () => {
    expect(resolve({ pipeline: pipelineWithBlock('retry_disruptions: false') }).config.job).toEqual({
      backoffLimit: 0,
    });
    const onFailure = resolve({ project: projectWith(`${IMAGE}\npod: {restart_policy: OnFailure}`) });
    expect(onFailure.config.job).toEqual({ backoffLimit: 0 });
    expect(Object.keys(onFailure.provenance).some((k) => k.startsWith('job.podFailurePolicy'))).toBe(false);
  });

  it('a higher layer can switch it back on', () => {
    const { config } = resolve({
      project: projectWith(`${IMAGE}\nretry_disruptions: false`),
      pipeline: pipelineWithBlock('retry_disruptions: true'),
    });
    expect(config.job?.podFailurePolicy).toEqual(DISRUPTION_POLICY);
  });

  it("checks the user's policy as the API server does, before any call", () => {
    const issues = issuesOf({
      pipeline: pipelineWithBlock(`pod: {restart_policy: OnFailure}
job:
  pod_failure_policy:
    rules:
      - {action: Retry, on_exit_codes: {operator: In, values: [1]}}
      - {action: FailJob}
      - {action: FailIndex, on_exit_codes: {operator: Is, values: [3, 2, 0]}, on_pod_conditions: [{type: X}]}
      - {action: Ignore, on_exit_codes: {operator: In, values: [0, 1]}}
      - {action: Count, on_exit_codes: {operator: NotIn, values: [1], container_name: other}}
      - {action: Ignore, on_pod_conditions: [{status: "True"}, {type: DisruptionTarget, status: yes}]}
      - {action: Ignore, on_pod_conditions: []}`),
    });
    expect(issues.map((i) => [i.code, i.path])).toEqual(
      [
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy'],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[0].action'],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[1]'],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[2].action'],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[2]'],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[2].on_exit_codes.operator'],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[2].on_exit_codes.values'],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[3].on_exit_codes.values'],
        [
          'INVALID_VALUE',
          'blocks[0].executor_config.job.pod_failure_policy.rules[4].on_exit_codes.container_name',
        ],
        [
          'INVALID_VALUE',
          'blocks[0].executor_config.job.pod_failure_policy.rules[5].on_pod_conditions[0].type',
        ],
        [
          'INVALID_VALUE',
          'blocks[0].executor_config.job.pod_failure_policy.rules[5].on_pod_conditions[1].status',
        ],
        ['INVALID_VALUE', 'blocks[0].executor_config.job.pod_failure_policy.rules[6].on_pod_conditions'],
      ].sort(),
    );
    const message = (suffix: string) => issues.find((i) => i.path.endsWith(suffix))?.message;
    expect(message('pod_failure_policy')).toBe(
      "a podFailurePolicy needs the pod's restartPolicy to be Never (it is OnFailure): set pod.restart_policy: Never, or remove the podFailurePolicy.",
    );
    expect(message('rules[1]')).toBe(
      'rule 1 needs exactly one of on_exit_codes and on_pod_conditions (it has neither).',
    );
    expect(message('rules[2].action')).toBe('FailIndex needs job.backoff_limit_per_index to be set.');
    expect(message('rules[3].on_exit_codes.values')).toBe(
      'exit code 0 is not allowed with operator In (a pod that exits 0 succeeded).',
    );
  });
});

describe('Kueue', () => {
  it('reads queue_name and workload_priority_class in every layer and spelling', () => {
    const { config, provenance } = resolve({
      project: projectWith(`${IMAGE}\nqueue_name: team-a\nworkloadPriorityClass: low`),
      pipeline: pipelineWithBlock('queueName: team-b'),
    });
    expect(config.queueName).toBe('team-b');
    expect(config.workloadPriorityClass).toBe('low');
    expect(provenance.queueName).toMatchObject({
      layer: 'block',
      sourcePath: 'blocks[0].executor_config.queueName',
    });
  });

  it('checks both names as Kueue does (a DNS-1123 subdomain that is a valid label value)', () => {
    const issues = issuesOf({
      pipeline: pipelineWithBlock(`queue_name: Team_A\nworkload_priority_class: ${'p'.repeat(64)}`),
    });
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ['INVALID_LABEL', 'blocks[0].executor_config.queue_name'],
      ['INVALID_LABEL', 'blocks[0].executor_config.workload_priority_class'],
    ]);
    expect(issues[0]?.message).toMatch(/the Kueue LocalQueue "Team_A" must be lowercase/);
    expect(issues[1]?.message).toMatch(/is 64 characters long, the limit is 63/);
    expect(issuesOf({ pipeline: pipelineWithBlock('queue_name: [a]') })).toMatchObject([
      { code: 'INVALID_LABEL', message: 'expected the name of a Kueue LocalQueue, got a list.' },
    ]);
  });

  it('a higher layer removes them with !remove', () => {
    const { config } = resolve({
      project: projectWith(`${IMAGE}\nqueue_name: team-a`),
      pipeline: pipelineWithBlock('queue_name: !remove'),
    });
    expect(config.queueName).toBeUndefined();
  });
});
