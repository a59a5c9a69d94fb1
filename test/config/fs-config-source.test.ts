import { describe, expect, it } from 'vitest';
import { FsConfigSource } from '../../src/adapters/fs/fs-config-source.js';
import { parseYamlDocument } from '../../src/adapters/fs/parse-yaml-document.js';

const PROJECTS = 'test/fixtures/projects';

describe('FsConfigSource', () => {
  it('reads the project and the pipeline, with file:line for every value', async () => {
    const snapshot = await new FsConfigSource({ projectDir: `${PROJECTS}/seed-001-block-gpu`, env: {} }).load(
      'train',
    );
    expect(snapshot.issues).toEqual([]);
    expect(snapshot.pipeline?.file).toBe(`${PROJECTS}/seed-001-block-gpu/pipelines/train/metadata.yaml`);
    expect(snapshot.pipeline?.locate(['blocks', 1, 'executor_config', 'resource_requests', 'cpu'])).toEqual({
      file: `${PROJECTS}/seed-001-block-gpu/pipelines/train/metadata.yaml`,
      line: 15,
      column: 7,
    });
    expect(snapshot.project?.value).toEqual({
      project_type: 'standalone',
      k8s_executor_config: { container: { image: 'mageai/mageai:latest' } },
    });
    expect(snapshot.template).toBeUndefined();
    expect(snapshot.policy).toBeUndefined();
  });

  it('reads K8S_CONFIG_FILE and K8S_DEFAULT_CONFIG_PATH relative to the working directory', async () => {
    const env = {
      K8S_CONFIG_FILE: `${PROJECTS}/seed-002-job-template/k8s-config.yaml`,
      K8S_DEFAULT_CONFIG_PATH: `${PROJECTS}/seed-002-policy/policy.yaml`,
    };
    const snapshot = await new FsConfigSource({ projectDir: `${PROJECTS}/seed-002-basic`, env }).load();
    expect(snapshot.issues).toEqual([]);
    expect(snapshot.template?.locate(['container', 'name'])?.line).toBe(64);
    expect(snapshot.policy?.value).toMatchObject({ enabled: true, enforce: true });
    expect(snapshot.env).toEqual(env);
  });

  it('turns missing files into FILE_NOT_FOUND issues instead of throwing', async () => {
    const source = new FsConfigSource({
      projectDir: 'test/fixtures/nowhere',
      env: { K8S_CONFIG_FILE: 'missing.yaml' },
    });
    const snapshot = await source.load();
    expect(snapshot.issues.map((i) => [i.code, i.location?.file])).toEqual([
      ['FILE_NOT_FOUND', 'test/fixtures/nowhere'],
      ['FILE_NOT_FOUND', 'missing.yaml'],
    ]);
    expect(snapshot.issues[1]?.message).toContain('K8S_CONFIG_FILE');
    expect(await source.listPipelines()).toEqual([]);
  });

  it('reports an unknown pipeline naming the ones that exist', async () => {
    const snapshot = await new FsConfigSource({ projectDir: `${PROJECTS}/broken-cycle`, env: {} }).load(
      'etll',
    );
    expect(snapshot.pipeline).toBeUndefined();
    expect(snapshot.issues).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_PIPELINE', message: expect.stringContaining('"etl"') }),
    ]);
    const outside = await new FsConfigSource({ projectDir: `${PROJECTS}/broken-cycle`, env: {} }).load(
      '../broken-cycle',
    );
    expect(outside.issues.map((i) => i.code)).toEqual(['UNKNOWN_PIPELINE']);
  });

  it('reports every YAML syntax error with its line', async () => {
    const snapshot = await new FsConfigSource({ projectDir: `${PROJECTS}/broken-yaml-syntax`, env: {} }).load(
      'etl',
    );
    expect(snapshot.issues.map((i) => [i.code, i.location?.file, i.location?.line])).toEqual([
      ['YAML_SYNTAX', `${PROJECTS}/broken-yaml-syntax/metadata.yaml`, 6],
      ['YAML_SYNTAX', `${PROJECTS}/broken-yaml-syntax/pipelines/etl/metadata.yaml`, 6],
    ]);
    expect(snapshot.issues[0]?.message).toBe(
      'duplicate key "namespace": it is already set on line 5; keep one of the two (DUPLICATE_KEY)',
    );
  });

  it('lists the pipeline folders that hold a metadata.yaml, sorted', async () => {
    expect(await new FsConfigSource({ projectDir: `${PROJECTS}/seed-003-metaflow` }).listPipelines()).toEqual(
      ['flow'],
    );
  });

  it('does no IO in the constructor and honours an aborted signal', async () => {
    const source = new FsConfigSource({ projectDir: '/does/not/exist' });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(source.listPipelines(controller.signal)).rejects.toThrow('stop');
  });
});

describe('parseYamlDocument', () => {
  const { doc } = parseYamlDocument('a:\n  - x: 1\n    y: &ref\n      z: 2\n  - *ref\n', 'f.yaml');

  it('locates keys, list items and aliases; falls back to the nearest existing parent', () => {
    expect(doc.locate(['a', 0, 'y', 'z'])).toEqual({ file: 'f.yaml', line: 4, column: 7 });
    expect(doc.locate(['a', 1])).toEqual({ file: 'f.yaml', line: 5, column: 5 });
    expect(doc.locate(['a', 1, 'z'])).toEqual({ file: 'f.yaml', line: 4, column: 7 });
    expect(doc.locate(['a', 0, 'missing'])?.line).toBe(2);
    expect(doc.value).toEqual({ a: [{ x: 1, y: { z: 2 } }, { z: 2 }] });
  });

  it('returns null for an empty file', () => {
    expect(parseYamlDocument('', 'e.yaml')).toMatchObject({ doc: { value: null }, issues: [] });
  });
});
