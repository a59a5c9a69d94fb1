import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../src/adapters/client-node/index.js';
import { explainConfig } from '../../src/config/index.js';
import { ConfigError, formatConfigIssue } from '../../src/errors/config-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockEvent } from '../../src/executor/types.js';
import type { JobClient } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';

/**
 * Env values may be secrets. Whatever goes wrong — the block fails, the API server rejects the Job and
 * echoes its body, the config is invalid next to (or inside) the env entry — the value must not show
 * in a log line, an event, an error (message, cause, inspection) or the result.
 */

const SECRET = 'S3cr3t-9f8e7d6c-token';

const ENV = `
    env:
      - name: API_TOKEN
        value: ${SECRET}
      - name: DB_PASSWORD
        valueFrom:
          secretKeyRef: {name: db, key: password}`;

const RUN = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 7 };

/** Every rendering of a value a user could print or ship to a log system. */
function renderings(value: unknown): string {
  const error = value instanceof Error ? `${String(value)}\n${value.stack ?? ''}` : '';
  return `${error}\n${inspect(value, { depth: 20 })}\n${JSON.stringify(value) ?? ''}`;
}

function executorFor(jobClient: JobClient, clock?: FakeClock, extraConfig = '', blockConfig = '') {
  const files = projectFiles(`  - uuid: load\n${blockConfig}`, `${ENV}\n${extraConfig}`);
  return new K8sBlockExecutor({
    configSource: new StaticConfigSource(files),
    jobClient,
    ...(clock ? { clock } : {}),
    logDrainMs: 10,
  });
}

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('secrets in env values', () => {
  it('the Job really carries the value (so the checks below are not vacuous)', async () => {
    const prepared = await executorFor(new InMemoryJobClient()).prepare(RUN);
    expect(JSON.stringify(prepared.job)).toContain(SECRET);
  });

  it('never appear in the result, events, log lines or warning events of a failing block', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    jobClient.script('mage-data-prep-block-7', [
      { runMs: 1000, logs: ['starting', 'failed: bad input'], exitCode: 3 },
    ]);
    const executor = executorFor(jobClient, clock);
    const events: BlockEvent[] = [];
    const lines: string[] = [];
    const result = await drive(
      clock,
      executor.execute(RUN, { onEvent: (e) => events.push(e), onLog: (l) => lines.push(l.line) }),
    );
    executor.close();

    expect(result).toMatchObject({ status: 'failed', reason: 'EXIT_CODE', exitCode: 3 });
    expect(events.length).toBeGreaterThan(2);
    expect(renderings(result)).not.toContain(SECRET);
    expect(renderings(events)).not.toContain(SECRET);
    expect(renderings(lines)).not.toContain(SECRET);
  });

  it('never appear in an API error, even when the server echoes the Job body (422 with field causes)', async () => {
    server = await startFakeApiServer({
      faults: [
        {
          verbs: ['create'],
          fault: {
            type: 'status',
            status: 422,
            message: (body) => `Job.batch is invalid: ${body}`,
            details: (body) => ({
              causes: [
                { field: 'spec.template.spec.containers[0].env[0].value', message: `Invalid value: ${body}` },
              ],
            }),
          },
        },
      ],
    });
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: server.kubeconfigPath,
      qps: 1000,
      burst: 1000,
    });
    const executor = executorFor(jobClient);
    const error = await executor.execute(RUN).catch((e: unknown) => e);
    executor.close();

    expect(error).toMatchObject({ code: 'API_INVALID' });
    expect(renderings(error)).not.toContain(SECRET);
  });

  it('never appear in an API error after retries ran out on a server error that echoes the body', async () => {
    server = await startFakeApiServer({
      faults: [
        {
          verbs: ['create'],
          fault: { type: 'status', status: 500, message: (body) => `etcd failed on ${body}` },
        },
      ],
    });
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: server.kubeconfigPath,
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
    });
    const executor = executorFor(jobClient);
    const error = await executor.execute(RUN).catch((e: unknown) => e);
    executor.close();

    expect(error).toMatchObject({ code: 'API_UNAVAILABLE' });
    expect(String(error)).toMatch(/after 3 attempts/);
    expect(renderings(error)).not.toContain(SECRET);
  });

  // The API server quotes invalid values Go-style (`Invalid value: "a\\"b"`): the escaped form is redacted too.
  it('never appear in an API error when the server echoes a value that needs escaping', async () => {
    const tricky = 'Pa"ss\\w0rd-1234';
    server = await startFakeApiServer({
      faults: [
        {
          verbs: ['create'],
          fault: {
            type: 'status',
            status: 422,
            message: () =>
              `Job.batch is invalid: spec.template.spec.containers[0].env[0].value: Invalid value: ${JSON.stringify(tricky)}`,
          },
        },
      ],
    });
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: server.kubeconfigPath,
      qps: 1000,
      burst: 1000,
    });
    const files = projectFiles(
      '  - uuid: load\n',
      `    env:\n      - name: API_TOKEN\n        value: '${tricky}'`,
    );
    const executor = new K8sBlockExecutor({ configSource: new StaticConfigSource(files), jobClient });
    expect(JSON.stringify((await executor.prepare(RUN)).job)).toContain(JSON.stringify(tricky).slice(1, -1));
    const error = await executor.execute(RUN).catch((e: unknown) => e);
    executor.close();

    expect(error).toMatchObject({ code: 'API_INVALID' });
    expect(String(error)).not.toContain(JSON.stringify(tricky).slice(1, -1));
  });

  it.each([
    ['a problem elsewhere in the config', '  resource_limits: {cpu: lots}', ''],
    [
      'a typo in a key next to the value',
      '',
      `    executor_config:\n      container:\n        env:\n          - {name: API_TOKEN, value: ${SECRET}, valu: x}`,
    ],
    [
      'an env value of the wrong type (a list)',
      '',
      `    executor_config:\n      container:\n        env:\n          - {name: API_TOKEN, value: [${SECRET}]}`,
    ],
    [
      'an env value of the wrong type (a map)',
      '',
      `    executor_config:\n      container:\n        env:\n          - {name: API_TOKEN, value: {v: ${SECRET}}}`,
    ],
    [
      'an env entry without a name',
      '',
      `    executor_config:\n      container:\n        env:\n          - {value: ${SECRET}}`,
    ],
    [
      'a template error in the same container',
      '',
      `    executor_config:\n      container:\n        env:\n          - {name: API_TOKEN, value: ${SECRET}}\n        command: ["run", "{{ env_var('NOT_SET') }}"]`,
    ],
  ])('never appear in a ConfigError raised for %s', async (_case, extraConfig, blockConfig) => {
    const jobClient = new InMemoryJobClient();
    const executor = executorFor(jobClient, undefined, extraConfig, blockConfig);
    const error = await executor.execute(RUN).catch((e: unknown) => e);
    executor.close();

    expect(error).toBeInstanceOf(ConfigError);
    expect(jobClient.calls).toEqual([]);
    expect(renderings(error)).not.toContain(SECRET);
    expect((error as ConfigError).issues.map(formatConfigIssue).join('\n')).not.toContain(SECRET);
  });

  it('are masked in explain output (explain shows resolved values, so env values must be hidden there too)', async () => {
    const prepared = await executorFor(new InMemoryJobClient()).prepare(RUN);
    const rows = explainConfig(prepared.resolved);
    expect(rows.some((r) => r.path.startsWith('container.env['))).toBe(true);
    expect(renderings(rows)).not.toContain(SECRET);
  });
});
