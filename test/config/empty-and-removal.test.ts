import { describe, expect, it } from 'vitest';
import { POD_IDENTITY_ENV } from '../../src/config/identity-env.js';
import {
  checkSnapshot,
  DISRUPTION_POLICY,
  REMOVE,
  replaceWith,
  resolveConfig,
} from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/config-error.js';
import type { ServerPod } from '../../src/ports/pod-introspector.js';
import {
  BLOCK_RUN,
  pipelineWithBlock,
  projectWith,
  type SnapshotFiles,
  snapshotOf,
} from './snapshot-helper.js';

/** A Mage server pod that mounts its code PVC at /home/src (as in Mage's Helm chart). */
const serverPod: ServerPod = {
  containerName: 'mage-server',
  pod: {
    metadata: { name: 'mage-0' },
    spec: {
      containers: [
        {
          name: 'mage-server',
          image: 'mageai/mageai:0.9.76',
          env: [{ name: 'USER_CODE_PATH', value: '/home/src/proj' }],
          volumeMounts: [{ name: 'code', mountPath: '/home/src' }],
        },
      ],
      volumes: [{ name: 'code', persistentVolumeClaim: { claimName: 'mage-code' } }],
      tolerations: [{ key: 'server', operator: 'Exists' }],
    },
  },
};

function resolve(files: SnapshotFiles, withServerPod = false) {
  return resolveConfig({
    snapshot: snapshotOf({ pipeline: pipelineWithBlock(''), ...files }),
    mode: 'block',
    identity: BLOCK_RUN,
    ...(withServerPod ? { serverPod } : {}),
  });
}

function issuesOf(run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('an empty value (YAML null) is "not set", as Mage reads it', () => {
  it('job: empty keeps backoffLimit 0 (Kubernetes would retry 6 times)', () => {
    const { config } = resolve({ project: projectWith('container_config: {image: x/y:1}\njob:') });
    expect(config.job).toEqual({ backoffLimit: 0, podFailurePolicy: DISRUPTION_POLICY });
  });

  it.each([
    ['pod: empty', 'pod:'],
    ['pod.volumes empty', 'pod:\n  volumes:'],
  ])('%s keeps the inherited volume and its mount', (_name, yaml) => {
    const { config } = resolve({ project: projectWith(yaml) }, true);
    expect(config.pod?.volumes).toEqual([
      { name: 'code', persistentVolumeClaim: { claimName: 'mage-code' } },
    ]);
    expect(config.container.volumeMounts).toEqual([{ name: 'code', mountPath: '/home/src' }]);
  });

  it("container: empty keeps the container name and the server's image", () => {
    const { config } = resolve({ project: projectWith('container:') }, true);
    expect(config.container).toMatchObject({ name: 'mage-job-container', image: 'mageai/mageai:0.9.76' });
  });

  it('container_config: empty next to container is ignored', () => {
    const { config } = resolve({ project: projectWith('container: {image: x/y:1}\ncontainer_config:') });
    expect(config.container.image).toBe('x/y:1');
  });

  it('namespace: and job_name_prefix: empty keep KUBE_NAMESPACE (else default) and data-prep', () => {
    const files = { project: projectWith('image: x/y:1\nnamespace:\njob_name_prefix:') };
    expect(resolve(files).config).toMatchObject({ namespace: 'default', jobNamePrefix: 'data-prep' });
    const fromEnv = resolveConfig({
      snapshot: snapshotOf({ ...files, pipeline: pipelineWithBlock(''), env: { KUBE_NAMESPACE: 'mage' } }),
      mode: 'block',
      identity: BLOCK_RUN,
    });
    expect(fromEnv.config.namespace).toBe('mage');
  });

  it("a block's empty resource_limits removes nothing, and the dedented line under it is a warning", () => {
    const files = {
      project: projectWith('image: x/y:1\nresource_limits: {cpu: "1"}'),
      pipeline: pipelineWithBlock('resource_limits:\nmemory: 4Gi'),
    };
    expect(resolve(files).config.container.resources).toEqual({
      limits: { cpu: '1' },
      requests: { memory: '4Gi' },
    });
    const { problems, warnings } = checkSnapshot(snapshotOf(files));
    expect(problems).toEqual([]);
    expect(warnings.filter((w) => w.code === 'DEDENTED_KEYS')).toEqual([
      expect.objectContaining({
        code: 'DEDENTED_KEYS',
        path: 'blocks[0].executor_config.resource_limits',
        location: { file: 'proj/pipelines/p/metadata.yaml', line: 6, column: 5 },
      }),
    ]);
  });

  it('warns about an empty section of the project or a block followed by its keys', () => {
    const { warnings } = checkSnapshot(
      snapshotOf({
        project: 'executor_type: k8s\nk8s_executor_config:\nimage: x/y:1\n',
        pipeline: 'blocks:\n- uuid: b\n  retry_config:\n  retries: 2\n',
      }),
    );
    const dedented = warnings.filter((w) => w.code === 'DEDENTED_KEYS');
    expect(dedented.map((w) => [w.code, w.path, w.location?.line])).toEqual([
      ['DEDENTED_KEYS', 'k8s_executor_config', 2],
      ['DEDENTED_KEYS', 'blocks[0].retry_config', 3],
    ]);
  });
});

describe('removing what a lower layer set: !remove and !replace', () => {
  it('!remove removes built-ins, env defaults and lower layers; a higher layer may set the key again', () => {
    const { config, provenance } = resolve({
      env: { K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_CPU: '2' },
      project: projectWith('image: x/y:1\npod: {node_selector: {pool: a}}\njob: {backoff_limit: !remove}'),
      pipeline: pipelineWithBlock('pod: {node_selector: !remove}\nresource_limits: {cpu: !remove}'),
    });
    expect(config.pod?.nodeSelector).toBeUndefined();
    expect(config.container.resources).toBeUndefined();
    expect(config.job).toEqual({ podFailurePolicy: DISRUPTION_POLICY });
    expect(Object.keys(provenance).some((k) => k.startsWith('pod.nodeSelector'))).toBe(false);
  });

  it('!replace replaces a map or a keyed list whole instead of merging into it', () => {
    const { config } = resolve({
      project: projectWith(
        'image: x/y:1\nnode_selector: {pool: a, zone: b}\ncontainer: {env: [{name: A, value: "1"}, {name: B, value: "2"}]}',
      ),
      pipeline: pipelineWithBlock(
        'node_selector: !replace {pool: c}\ncontainer: {env: !replace [{name: C, value: "3"}]}',
      ),
    });
    expect(config.pod?.nodeSelector).toEqual({ pool: 'c' });
    // The executor's own variables are added after the merge (unless set), so !replace keeps them.
    expect(config.container.env).toEqual([{ name: 'C', value: '3' }, ...POD_IDENTITY_ENV]);
  });

  it('the same markers work in code: REMOVE and replaceWith', () => {
    const doc = (file: string, value: unknown) => ({ file, value, locate: () => undefined });
    const { config } = resolveConfig({
      snapshot: {
        projectDir: '.',
        env: {},
        issues: [],
        project: doc('m.yaml', { k8s_executor_config: { image: 'x', labels: { a: '1', b: '2' } } }),
        pipeline: doc('p.yaml', {
          blocks: [{ uuid: 'b', executor_config: { labels: replaceWith({ c: '3' }), job: REMOVE } }],
        }),
      },
      mode: 'block',
      identity: BLOCK_RUN,
    });
    expect(config.metadata?.labels).toEqual({ c: '3' });
    expect(config.job).toBeUndefined();
  });

  it('removing inherited volumes removes the inherited mounts that use them', () => {
    const { config } = resolve({ project: projectWith('pod: {volumes: !remove}') }, true);
    expect(config.pod?.volumes).toBeUndefined();
    expect(config.container.volumeMounts).toEqual([]);
  });

  it('a config mount whose volume was removed is one clear error', () => {
    const issues = issuesOf(() =>
      resolve(
        {
          project: projectWith(
            'pod: {volumes: !remove}\ncontainer: {volume_mounts: [{name: code, mount_path: /data}]}',
          ),
        },
        true,
      ),
    );
    expect(issues.map((i) => [i.code, i.message])).toEqual([
      ['INVALID_VALUE', expect.stringContaining('uses volume "code", which is not defined')],
    ]);
  });

  it('!remove on an inherited field stops the inheritance; an empty one does not', () => {
    expect(
      resolve({ project: projectWith('pod: {tolerations: !remove}') }, true).config.pod?.tolerations,
    ).toBeUndefined();
    expect(resolve({ project: projectWith('pod: {tolerations:}') }, true).config.pod?.tolerations).toEqual([
      { key: 'server', operator: 'Exists' },
    ]);
  });

  it('a required field removed is reported with how to fix it', () => {
    const issues = issuesOf(() => resolve({ project: projectWith('image: x/y:1\nnamespace: !remove') }));
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'INVALID_VALUE',
        path: 'k8s_executor_config.namespace',
        message: expect.stringContaining('!remove'),
      }),
    ]);
  });
});

describe('PyYAML compatibility', () => {
  it('applies merge keys', () => {
    const { config, provenance } = resolve({
      project: `executor_type: k8s
base: &base
  image: x/y:1
  resource_limits: {cpu: "1"}
k8s_executor_config:
  <<: *base
  namespace: data
`,
    });
    expect(config).toMatchObject({
      namespace: 'data',
      container: { image: 'x/y:1', resources: { limits: { cpu: '1' } } },
    });
    expect(provenance['container.image']?.location?.line).toBe(3);
  });

  it('reads yes/no/on/off as booleans only where a boolean is expected', () => {
    const { config } = resolve(
      {
        project: projectWith('image: x/y:1\ninherit_server_pod: no\nlabels: {enabled: yes}'),
      },
      true,
    );
    expect(config.container.image).toBe('x/y:1');
    // The server pod's env is not inherited: only the executor's own variables.
    expect(config.container.env).toEqual(POD_IDENTITY_ENV);
    expect(config.metadata?.labels).toEqual({ enabled: 'yes' });
  });
});
