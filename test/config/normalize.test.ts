import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseYamlDocument } from '../../src/adapters/fs/parse-yaml-document.js';
import { normalizeLayer } from '../../src/config/normalize.js';

interface Case {
  name: string;
  given: unknown;
  then: { config: unknown; issues?: { code: string; path: string; message?: string }[] };
}

// Read as config files are, so that `!remove` and `!replace` in the fixture are the markers.
const FIXTURE = 'test/fixtures/config/normalize.yaml';
const cases = parseYamlDocument(readFileSync(FIXTURE, 'utf8'), FIXTURE).doc.value as Case[];
const byPath = <T extends { path: string }>(list: T[]) =>
  [...list].sort((a, b) => a.path.localeCompare(b.path));

describe('normalizeLayer (test/fixtures/config/normalize.yaml)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, { given, then }) => {
    const layer = normalizeLayer({ value: given, path: ['executor_config'] });
    expect(layer.config).toStrictEqual(then.config);
    const expected = byPath(then.issues ?? []);
    const actual = byPath([...layer.issues]);
    expect(actual.map(({ code, path }) => ({ code, path }))).toEqual(
      expected.map(({ code, path }) => ({ code, path })),
    );
    expected.forEach((issue, i) => {
      if (issue.message) expect(actual[i]!.message).toContain(issue.message);
    });
  });
});

describe('normalizeLayer provenance', () => {
  const yaml = `blocks:
- uuid: a
  executor_config:
    cpu: 2
    pod:
      tolerations:
        - key: k
          toleration_seconds: x
    labels:
      app.kubernetes.io/name: web
    container:
      env:
        - name: API_KEY
          value: v
`;
  const { doc } = parseYamlDocument(yaml, 'pipelines/p/metadata.yaml');
  const layer = normalizeLayer({
    value: (doc.value as { blocks: { executor_config: unknown }[] }).blocks[0]!.executor_config,
    path: ['blocks', 0, 'executor_config'],
    document: doc,
  });

  it('records the user path and file:line of every value, under its canonical key', () => {
    expect(layer.origins.get('container.resources.requests.cpu')).toEqual({
      sourcePath: 'blocks[0].executor_config.cpu',
      location: { file: 'pipelines/p/metadata.yaml', line: 4, column: 5 },
    });
    expect(layer.origins.get('metadata.labels["app.kubernetes.io/name"]')?.location?.line).toBe(10);
    expect(layer.origins.get('container.env[API_KEY]')?.sourcePath).toBe(
      'blocks[0].executor_config.container.env[0]',
    );
    expect(layer.origins.get('container.env[API_KEY].value')?.location?.line).toBe(14);
  });

  it('reports problems at the user spelling and line', () => {
    expect(layer.issues).toEqual([
      {
        code: 'INVALID_TYPE',
        path: 'blocks[0].executor_config.pod.tolerations[0].toleration_seconds',
        message: 'expected a whole number, got a string.',
        location: { file: 'pipelines/p/metadata.yaml', line: 8, column: 11 },
      },
    ]);
  });

  it('points at the detailed spelling when two spellings agree', () => {
    const both = normalizeLayer({
      value: { service_account_name: 'sa', pod: { service_account_name: 'sa' } },
      path: [],
    });
    expect(both.issues).toEqual([]);
    expect(both.origins.get('pod.serviceAccountName')?.sourcePath).toBe('pod.service_account_name');
  });

  it('rejects a layer that is not a map', () => {
    expect(normalizeLayer({ value: 'k8s', path: ['executor_config'] }).issues.map((i) => i.code)).toEqual([
      'INVALID_TYPE',
    ]);
    expect(normalizeLayer({ value: null, path: ['executor_config'] })).toMatchObject({
      config: {},
      issues: [],
    });
  });
});
