import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseYamlDocument } from '../../src/adapters/fs/parse-yaml-document.js';
import { readPipeline, resolveConfig } from '../../src/config/index.js';
import { ConfigError, type ConfigIssue } from '../../src/errors/config-error.js';
import type { ConfigSnapshot } from '../../src/ports/config-source.js';
import { BLOCK_RUN, pipelineWithBlock } from './snapshot-helper.js';

const DIR = 'test/fixtures/config/issues';

/** A snapshot whose project metadata.yaml is the fixture file. */
function projectFixture(name: string): ConfigSnapshot {
  const file = `${DIR}/${name}`;
  const { doc, issues } = parseYamlDocument(readFileSync(file, 'utf8'), file);
  const pipeline = parseYamlDocument(pipelineWithBlock(''), 'pipelines/p/metadata.yaml').doc;
  return { projectDir: DIR, project: doc, pipeline, env: {}, issues };
}

function issuesOf(run: () => unknown): readonly ConfigIssue[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

const resolveIssues = (name: string) =>
  issuesOf(() => resolveConfig({ snapshot: projectFixture(name), mode: 'block', identity: BLOCK_RUN }));

const brief = (issues: readonly ConfigIssue[]) =>
  issues.map((i) => ({ code: i.code, path: i.path, file: i.location?.file, line: i.location?.line }));

describe('one fixture per issue code (code, path, file, line)', () => {
  const cases: [string, string, string, number][] = [
    ['yaml-syntax.yaml', 'YAML_SYNTAX', '', 4],
    ['unknown-key.yaml', 'UNKNOWN_KEY', 'k8s_executor_config.pod.node_selectr', 4],
    ['invalid-type.yaml', 'INVALID_TYPE', 'k8s_executor_config.pod.tolerations[0].toleration_seconds', 6],
    ['invalid-value.yaml', 'INVALID_VALUE', 'k8s_executor_config.container.image_pull_policy', 4],
    ['invalid-quantity.yaml', 'INVALID_QUANTITY', 'k8s_executor_config.resource_limits.memory', 4],
    ['unknown-resource.yaml', 'UNKNOWN_KEY', 'k8s_executor_config.resource_limits.memroy', 4],
    ['env-value-and-value-from.yaml', 'INVALID_VALUE', 'k8s_executor_config.container.env[0]', 5],
    ['invalid-name.yaml', 'INVALID_NAME', 'k8s_executor_config.service_account_name', 3],
    ['invalid-label.yaml', 'INVALID_LABEL', 'k8s_executor_config.metadata.labels.team', 5],
    ['missing-image.yaml', 'MISSING_IMAGE', 'container.image', 0],
    ['template-undefined.yaml', 'TEMPLATE_UNDEFINED', 'k8s_executor_config.namespace', 3],
    ['template-syntax.yaml', 'TEMPLATE_SYNTAX', 'k8s_executor_config.labels.run', 4],
    ['conflicting-keys.yaml', 'CONFLICTING_KEYS', 'k8s_executor_config.service_account_name', 5],
  ];
  it.each(cases)('%s → %s', (name, code, path, line) => {
    const file = line === 0 ? undefined : `${DIR}/${name}`;
    expect(brief(resolveIssues(name))).toEqual([{ code, path, file, line: line === 0 ? undefined : line }]);
  });

  it('names what is missing and what to do', () => {
    expect(resolveIssues('missing-image.yaml')[0]?.message).toMatch(
      /set `image`.*k8s_executor_config.*executor_config.*K8S_CONFIG_FILE/,
    );
    expect(resolveIssues('template-undefined.yaml')[0]?.message).toBe(
      'environment variable "TEAM_NAMESPACE" is not set: set it where the executor runs.',
    );
    expect(resolveIssues('unknown-key.yaml')[0]?.message).toContain('did you mean "node_selector"?');
    expect(resolveIssues('unknown-resource.yaml')[0]?.message).toContain('did you mean "memory"?');
  });

  const pipelineIssues = (name: string) => {
    const file = `${DIR}/${name}`;
    const { doc } = parseYamlDocument(readFileSync(file, 'utf8'), file);
    return issuesOf(() => readPipeline({ projectDir: DIR, pipeline: doc, env: {}, issues: [] }));
  };

  it('unknown-upstream.yaml → UNKNOWN_UPSTREAM with a suggestion', () => {
    const issues = pipelineIssues('unknown-upstream.yaml');
    expect(brief(issues)).toEqual([
      {
        code: 'UNKNOWN_UPSTREAM',
        path: 'blocks[1].upstream_blocks[0]',
        file: `${DIR}/unknown-upstream.yaml`,
        line: 6,
      },
    ]);
    expect(issues[0]?.message).toContain('did you mean "load"?');
  });

  it('dag-cycle.yaml → DAG_CYCLE naming the blocks of the cycle', () => {
    const issues = pipelineIssues('dag-cycle.yaml');
    expect(brief(issues)).toEqual([
      { code: 'DAG_CYCLE', path: 'blocks[0].upstream_blocks', file: `${DIR}/dag-cycle.yaml`, line: 4 },
    ]);
    expect(issues[0]?.message).toContain('a → c → b → a');
  });

  it('an unknown block → UNKNOWN_BLOCK naming the blocks that exist', () => {
    const issues = issuesOf(() =>
      resolveConfig({
        snapshot: projectFixture('invalid-value.yaml'),
        mode: 'block',
        identity: { ...BLOCK_RUN, blockUuid: 'nope' },
      }),
    );
    expect(issues.map((i) => i.code)).toContain('UNKNOWN_BLOCK');
    expect(issues.find((i) => i.code === 'UNKNOWN_BLOCK')?.message).toContain('the blocks are "b"');
  });
});

describe('a file with many problems', () => {
  it('reports all of them at once, in line order', () => {
    expect(brief(resolveIssues('multi-error.yaml'))).toEqual([
      {
        code: 'INVALID_NAME',
        path: 'k8s_executor_config.namespace',
        file: `${DIR}/multi-error.yaml`,
        line: 2,
      },
      {
        code: 'INVALID_QUANTITY',
        path: 'k8s_executor_config.resource_limits.cpu',
        file: `${DIR}/multi-error.yaml`,
        line: 4,
      },
      {
        code: 'INVALID_VALUE',
        path: 'k8s_executor_config.resource_requests.memory',
        file: `${DIR}/multi-error.yaml`,
        line: 7,
      },
      {
        code: 'INVALID_VALUE',
        path: 'k8s_executor_config.container.volume_mounts[0].name',
        file: `${DIR}/multi-error.yaml`,
        line: 10,
      },
      {
        code: 'INVALID_VALUE',
        path: 'k8s_executor_config.pod.tolerations[0].operator',
        file: `${DIR}/multi-error.yaml`,
        line: 15,
      },
      {
        code: 'INVALID_VALUE',
        path: 'k8s_executor_config.pod.restart_policy',
        file: `${DIR}/multi-error.yaml`,
        line: 16,
      },
      {
        code: 'INVALID_VALUE',
        path: 'k8s_executor_config.job.ttl_seconds_after_finished',
        file: `${DIR}/multi-error.yaml`,
        line: 18,
      },
      {
        code: 'INVALID_LABEL',
        path: 'k8s_executor_config.labels["team/"]',
        file: `${DIR}/multi-error.yaml`,
        line: 20,
      },
      { code: 'MISSING_IMAGE', path: 'container.image', file: undefined, line: undefined },
    ]);
  });

  it('throws one ConfigError whose message lists every problem with file:line', () => {
    const snapshot = projectFixture('multi-error.yaml');
    expect(() => resolveConfig({ snapshot, mode: 'block', identity: BLOCK_RUN })).toThrow(
      /9 problems[\s\S]*multi-error.yaml:2: k8s_executor_config.namespace:[\s\S]*\[MISSING_IMAGE\]/,
    );
  });
});

describe('quantities and names', () => {
  const withLimit = (cpu: string) =>
    issuesOf(() =>
      resolveConfig({
        snapshot: {
          projectDir: '.',
          env: {},
          issues: [],
          pipeline: parseYamlDocument(
            pipelineWithBlock(`image: i\nresource_limits: {cpu: "${cpu}"}`),
            'p.yaml',
          ).doc,
        },
        mode: 'block',
        identity: BLOCK_RUN,
      }),
    ).map((i) => i.code);
  it.each(['500m', '2', '1.5', '1e3', '2Gi', '0.5Gi', '.5', '100k'])('accepts %s', (q) =>
    expect(withLimit(q)).toEqual([]),
  );
  it.each(['2GB', '-1', 'abc', '1.5.2', '2 Gi', ''])('rejects "%s"', (q) =>
    expect(withLimit(q)).toEqual(['INVALID_QUANTITY']),
  );
});
