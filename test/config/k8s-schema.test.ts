import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONTAINER,
  ENV_FROM,
  type FieldSchema,
  JOB,
  POD,
  PORTS,
  RESOURCES,
  SECURITY_CONTEXT,
  TOLERATIONS,
  VOLUME_MOUNTS,
  VOLUMES,
} from '../../src/config/k8s-schema.js';

/** The field names of a kind in the official schemas shipped by kubernetes-models. */
function officialFields(kind: string): string[] {
  const text = readFileSync(`node_modules/kubernetes-models/${kind}.d.ts`, 'utf8');
  const body = text.slice(text.indexOf('export interface I'), text.indexOf('}\n'));
  return [...body.matchAll(/^ {4}"?([A-Za-z]+)"?\??:/gm)].map((m) => m[1]!).sort();
}

function modeledFields(schema: FieldSchema): string[] {
  const object = schema.type === 'list' ? schema.items : schema;
  if (object.type !== 'object') throw new Error('not an object schema');
  return Object.keys(object.schema.fields).sort();
}

describe('the schema knows every field of the official Kubernetes objects', () => {
  it.each([
    ['v1/Container', CONTAINER],
    ['v1/PodSpec', POD],
    ['batch/v1/JobSpec', JOB],
    ['v1/ResourceRequirements', RESOURCES],
    ['v1/SecurityContext', SECURITY_CONTEXT],
    ['v1/Toleration', TOLERATIONS],
    ['v1/ContainerPort', PORTS],
    ['v1/EnvFromSource', ENV_FROM],
    ['v1/VolumeMount', VOLUME_MOUNTS],
    ['v1/Volume', VOLUMES],
  ] as const)('%s', (kind, schema) => {
    expect(modeledFields(schema)).toEqual(officialFields(kind));
  });
});
