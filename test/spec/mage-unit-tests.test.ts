import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../src/errors/config-error.js';
import { prepareJob } from '../../src/executor/prepare.js';
import type { ServerPod } from '../../src/ports/pod-introspector.js';
import { snapshotOf } from '../config/snapshot-helper.js';

/**
 * Mage's own unit tests of its Kubernetes executor, as a black box: the fixture gives Mage's inputs and the
 * values Mage's assertions check; we render the Job and compare, except where docs/configuration.md lists a
 * difference on purpose (each quoted from the doc, so that an undocumented difference fails).
 */
interface Case {
  name: string;
  source: string;
  project?: string;
  template?: string;
  serverPod?: ServerPod;
  command?: string[];
  pipelineUuid?: string;
  blockUuid?: string;
  blockRunId?: string;
  pipelineRunId?: string;
  triggerName?: string;
  mage?: Record<string, unknown>;
  issues?: string[];
  differences?: { doc: string; mage?: Record<string, unknown>; ours?: Record<string, unknown> }[];
}

const FIXTURE = 'test/fixtures/mage/k8s-executor-unit-tests.yaml';
const { cases } = parse(readFileSync(FIXTURE, 'utf8'), { merge: true }) as { cases: Case[] };
const docs = readFileSync('docs/configuration.md', 'utf8');

/** The value at `spec.template.spec.containers[0].image` (undefined when absent). */
function at(value: unknown, path: string): unknown {
  let node = value;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function render(c: Case) {
  const pipelineUuid = c.pipelineUuid ?? 'p';
  const blockUuid = c.blockUuid ?? 'b';
  const snapshot = snapshotOf({
    ...(c.project !== undefined
      ? { project: `k8s_executor_config:\n${indent(c.project)}` }
      : { project: '' }),
    pipeline: `uuid: ${pipelineUuid}\nblocks:\n- uuid: ${blockUuid}\n  executor_type: k8s\n`,
    ...(c.template !== undefined ? { template: c.template, env: { K8S_CONFIG_FILE: 'template.yaml' } } : {}),
  });
  return prepareJob({
    snapshot,
    mode: 'block',
    identity: {
      pipelineUuid,
      pipelineRunId: c.pipelineRunId ?? '7',
      blockUuid,
      blockRunId: c.blockRunId ?? '42',
      ...(c.triggerName !== undefined ? { triggerName: c.triggerName } : {}),
    },
    ...(c.serverPod ? { serverPod: c.serverPod } : {}),
    ...(c.command ? { command: c.command } : {}),
  }).job;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

const asExpected = (value: unknown) => (value === null ? undefined : value);

describe("Mage's unit tests of its Kubernetes executor, rendered by k8s-executor", () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.issues) {
      let codes: string[] = [];
      try {
        render(c);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        codes = error.issues.map((i) => i.code);
      }
      expect(codes).toEqual(c.issues);
    } else {
      const job = render(c);
      for (const [path, value] of Object.entries(c.mage ?? {}))
        expect(at(job, path), path).toEqual(asExpected(value));
      for (const difference of c.differences ?? []) {
        for (const [path, value] of Object.entries(difference.ours ?? {}))
          expect(at(job, path), `${path} (${difference.doc})`).toEqual(asExpected(value));
        for (const [path, value] of Object.entries(difference.mage ?? {}))
          expect(at(job, path), `${path} differs from Mage on purpose`).not.toEqual(asExpected(value));
      }
    }
    for (const difference of c.differences ?? [])
      expect(docs, 'documented in docs/configuration.md').toContain(difference.doc);
  });
});
