import { describe, expect, it } from 'vitest';
import { POD_IDENTITY_ENV } from '../../src/config/identity-env.js';
import { resolveConfig } from '../../src/config/index.js';
import { renderTemplate } from '../../src/config/template.js';
import type { ConfigError } from '../../src/errors/config-error.js';
import { pipelineWithBlock, projectWith, snapshotOf } from './snapshot-helper.js';

const scope = { env: { TEAM: 'a&b/c', EMPTY: '' }, variables: { ns: 'from-vars', n: 3, nothing: null } };

describe('renderTemplate', () => {
  it.each([
    ["team-{{ env_var('TEAM') }}", 'team-a&b/c'],
    ['{{ env_var("EMPTY") }}x', 'x'],
    ["{{variables('ns')}}", 'from-vars'],
    ['{{ ns }}-{{ n }}', 'from-vars-3'],
    ['pipeline-{trigger_name}', 'pipeline-{trigger_name}'],
    ['no templates', 'no templates'],
  ])('%s → %s (no HTML escaping)', (text, value) => {
    expect(renderTemplate(text, scope)).toEqual({ ok: true, value });
  });

  it.each([
    ["{{ env_var('MISSING') }}", 'TEMPLATE_UNDEFINED', 'environment variable "MISSING"'],
    ["{{ variables('nope') }}", 'TEMPLATE_UNDEFINED', 'variable "nope"'],
    ['{{ nothing }}', 'TEMPLATE_UNDEFINED', 'variable "nothing"'],
    ['{{ ns | upper }}', 'TEMPLATE_SYNTAX', 'unsupported template expression'],
    ['{{ ns', 'TEMPLATE_SYNTAX', 'never closed'],
    ['{% if x %}', 'TEMPLATE_SYNTAX', 'not supported'],
  ])('%s → %s', (text, code, message) => {
    const result = renderTemplate(text, scope);
    expect(result).toMatchObject({ ok: false, code });
    expect(result.ok ? '' : result.message).toContain(message);
  });

  it("suggests only the run's built-ins this Job has, and says why a built-in is missing", () => {
    const wholePipeline = { env: {}, variables: { pipeline_uuid: 'etl', pipeline_run_id: '7', attempt: 1 } };
    const result = renderTemplate('{{ block_uuid }}', wholePipeline);
    expect(result.ok ? '' : result.message).toBe(
      'variable "block_uuid" is not defined: pass it as a run variable (a whole-pipeline Job has no block), or use one of pipeline_uuid, pipeline_run_id, attempt.',
    );
  });

  it('never puts the value of an environment variable in a message', () => {
    const result = renderTemplate("{{ env_var('TEAM') }}{{ bad expr }}", scope);
    expect(result.ok ? '' : result.message).not.toContain('a&b/c');
  });
});

describe('templated fields of a resolved config', () => {
  const snapshot = snapshotOf({
    env: { REGISTRY: 'reg.example.com' },
    project: projectWith(`image: "{{ env_var('REGISTRY') }}/etl:{{ variables('version') }}"
namespace: "team-{{ team }}"
job_name_prefix: "{{ pipeline_uuid }}-{trigger_name}"
labels: {block: "{{ block_uuid }}", attempt: "{{ attempt }}"}
annotations: {run: "{{ pipeline_run_id }}/{{ block_run_id }}"}
container:
  command: [python, "/home/src/{{ pipeline_uuid }}/{{ block_uuid }}.py"]
  args: ["--trigger={{ trigger_name }}"]
  env: [{name: NOT_TEMPLATED, value: "{{ x }}"}]`),
    pipeline: pipelineWithBlock(''),
  });
  const identity = {
    pipelineUuid: 'p',
    pipelineRunId: '7',
    blockUuid: 'b',
    blockRunId: '42',
    triggerName: 'nightly',
    attempt: 2,
  };

  it('renders namespace, prefix, image, label and annotation values, command and args', () => {
    const { config } = resolveConfig({
      snapshot,
      mode: 'block',
      identity,
      variables: { version: '1.2', team: 'data', pipeline_uuid: 'ignored' },
    });
    expect(config.namespace).toBe('team-data');
    expect(config.jobNamePrefix).toBe('p-{trigger_name}');
    expect(config.container.image).toBe('reg.example.com/etl:1.2');
    expect(config.metadata).toEqual({ labels: { block: 'b', attempt: '2' }, annotations: { run: '7/42' } });
    expect(config.container.command).toEqual(['python', '/home/src/p/b.py']);
    expect(config.container.args).toEqual(['--trigger=nightly']);
    expect(config.container.env).toEqual([{ name: 'NOT_TEMPLATED', value: '{{ x }}' }, ...POD_IDENTITY_ENV]);
  });

  it('reports every missing name at once, where it was written', () => {
    try {
      resolveConfig({ snapshot, mode: 'block', identity: { ...identity, triggerName: undefined } });
      expect.unreachable();
    } catch (error) {
      const issues = (error as ConfigError).issues;
      expect(issues.map((i) => [i.code, i.path, i.location?.line])).toEqual([
        ['TEMPLATE_UNDEFINED', 'k8s_executor_config.image', 3],
        ['TEMPLATE_UNDEFINED', 'k8s_executor_config.namespace', 4],
        ['TEMPLATE_UNDEFINED', 'k8s_executor_config.container.args[0]', 10],
      ]);
    }
  });
});
