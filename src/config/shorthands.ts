import type { DocumentPath } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { dnsSubdomainProblem, labelValueProblem } from './k8s-values.js';
import { squashKey } from './key-case.js';
import { isPlainObject, nest, recordOrigins } from './merge.js';
import { joinKey } from './paths.js';
import { asBoolean, isUnitlessNumber } from './scalars.js';
import {
  describeValue,
  originAt,
  quoteValue,
  report,
  type SourceOrigin,
  type WalkContext,
} from './schema-walk.js';

/**
 * Metaflow-style `@kubernetes` shorthands (seed doc 003), each turned into canonical fields.
 * Units follow Metaflow: `memory` and `disk` are MB (`"<n>M"`), `shared_memory` and `tmpfs_size` are
 * MiB (`"<n>Mi"`), whether written as a number or as a string without a unit (`"4096"`). Any other string
 * is taken as a Kubernetes quantity as written (`2Gi`).
 */

/** Builds `{a: {b: value}}` for canonical segments `['a', 'b']`, recording `origin` for every node. */
export function fragment(
  segments: readonly string[],
  value: unknown,
  origin: SourceOrigin,
  ctx: WalkContext,
): JsonObject {
  let canon = '';
  for (const segment of segments) canon = joinKey(canon, segment);
  recordOrigins(canon, value, origin, ctx.origins);
  return nest(segments, value);
}

/** A MB/MiB number (or unitless numeric string) → `"<n><unit>"`; a quantity string stays as written. */
function sizeOf(raw: unknown, unit: 'M' | 'Mi', doc: DocumentPath, ctx: WalkContext): string | undefined {
  if (typeof raw === 'number' && raw >= 0) return `${raw}${unit}`;
  if (typeof raw === 'string' && isUnitlessNumber(raw.trim())) return `${raw.trim()}${unit}`;
  if (typeof raw === 'string' && raw.trim() !== '') return raw.trim();
  const expected = `a size in ${unit === 'M' ? 'MB' : 'MiB'} (a number such as 4096) or a quantity such as 2Gi`;
  refuse(ctx, doc, raw, expected);
  return undefined;
}

/**
 * Reports a shorthand value that is not `expected`, saying what is wrong with it and quoting it: a
 * negative number or an empty string is an `INVALID_VALUE` (`-1 is negative: expected ...`), a fraction
 * where a whole number is expected too; any other type an `INVALID_TYPE` (`expected ..., got true`).
 */
function refuse(
  ctx: WalkContext,
  doc: DocumentPath,
  raw: unknown,
  expected: string,
  options: { whole?: boolean } = {},
): void {
  const wrong =
    typeof raw === 'number' && raw < 0
      ? 'is negative'
      : typeof raw === 'number' && options.whole && !Number.isInteger(raw)
        ? 'is not a whole number'
        : typeof raw === 'string' && raw.trim() === ''
          ? 'is empty'
          : undefined;
  if (wrong) {
    const value = typeof raw === 'string' ? `"${raw}"` : String(raw);
    report(ctx, 'INVALID_VALUE', doc, `${value} ${wrong}: expected ${expected}.`);
  } else report(ctx, 'INVALID_TYPE', doc, `expected ${expected}, got ${quoteValue(raw)}.`);
}

/** One shorthand: raw value → canonical fragment (undefined when invalid; the issue is recorded). */
export type Shorthand = (
  raw: unknown,
  doc: DocumentPath,
  ctx: WalkContext,
  layer: JsonObject,
) => JsonObject | undefined;

const REQUESTS = ['container', 'resources', 'requests'];

/** `cpu: 0.5` → `container.resources.requests.cpu: "0.5"`. */
const cpu: Shorthand = (raw, doc, ctx) => {
  if ((typeof raw === 'number' && raw >= 0) || (typeof raw === 'string' && raw.trim() !== '')) {
    return fragment([...REQUESTS, 'cpu'], String(raw).trim(), originAt(ctx, doc), ctx);
  }
  refuse(ctx, doc, raw, 'a number of CPUs (0.5, 2) or a quantity such as 500m');
  return undefined;
};

/** `memory: 4096` (MB) → `container.resources.requests.memory: "4096M"`. */
const memory: Shorthand = (raw, doc, ctx) => {
  const size = sizeOf(raw, 'M', doc, ctx);
  return size === undefined ? undefined : fragment([...REQUESTS, 'memory'], size, originAt(ctx, doc), ctx);
};

/** `disk: 10240` (MB) → `container.resources.requests.ephemeral-storage: "10240M"`. */
const disk: Shorthand = (raw, doc, ctx) => {
  const size = sizeOf(raw, 'M', doc, ctx);
  return size === undefined
    ? undefined
    : fragment([...REQUESTS, 'ephemeral-storage'], size, originAt(ctx, doc), ctx);
};

/** `gpu: 1` (+ `gpu_vendor`, default nvidia) → `container.resources.limits["nvidia.com/gpu"]: "1"`. */
const gpu: Shorthand = (raw, doc, ctx, layer) => {
  const count = typeof raw === 'string' && isUnitlessNumber(raw.trim()) ? Number(raw) : raw;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    refuse(ctx, doc, count, 'a whole number of GPUs (0, 1, 2, ...)', { whole: true });
    return undefined;
  }
  if (count === 0) return {};
  const vendorEntry = entryOf(layer, 'gpu_vendor');
  const vendor = typeof vendorEntry?.[1] === 'string' ? vendorEntry[1].trim().toLowerCase() : 'nvidia';
  return fragment(
    ['container', 'resources', 'limits', `${vendor}.com/gpu`],
    String(count),
    originAt(ctx, doc),
    ctx,
  );
};

/** `gpu_vendor` is read by `gpu`; alone it only has to be a vendor name. */
const gpuVendor: Shorthand = (raw, doc, ctx) => {
  if (typeof raw === 'string' && /^[a-z0-9-]+$/i.test(raw.trim())) return {};
  report(
    ctx,
    'INVALID_VALUE',
    doc,
    `expected a GPU vendor such as "nvidia" or "amd", got ${describeValue(raw)}.`,
  );
  return undefined;
};

/** `secrets: [a, b]` → `container.envFrom: [{secretRef: {name: a}}, {secretRef: {name: b}}]`. */
const secrets: Shorthand = (raw, doc, ctx) => {
  const names = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n !== '')) {
    report(
      ctx,
      'INVALID_TYPE',
      doc,
      `expected a secret name or a list of secret names, got ${describeValue(raw)}.`,
    );
    return undefined;
  }
  const refs = [...new Set(names as string[])].map((name) => ({ secretRef: { name } }));
  return fragment(['container', 'envFrom'], refs, originAt(ctx, doc), ctx);
};

/** `persistent_volume_claims: {claim: /mount/path}` → a PVC volume and a mount per claim. */
const persistentVolumeClaims: Shorthand = (raw, doc, ctx) => {
  if (!isPlainObject(raw) || !Object.values(raw).every((p) => typeof p === 'string' && p.startsWith('/'))) {
    report(
      ctx,
      'INVALID_TYPE',
      doc,
      `expected a map of claim names to absolute mount paths, got ${describeValue(raw)}.`,
    );
    return undefined;
  }
  const claims = Object.entries(raw as Record<string, string>);
  const volumes = claims.map(([claim]) => ({ name: claim, persistentVolumeClaim: { claimName: claim } }));
  const mounts = claims.map(([claim, mountPath]) => ({ name: claim, mountPath }));
  const origin = originAt(ctx, doc);
  return {
    ...fragment(['pod', 'volumes'], volumes, origin, ctx),
    ...fragment(['container', 'volumeMounts'], mounts, origin, ctx),
  };
};

/** A memory-backed emptyDir volume mounted at `mountPath`. */
function memoryVolume(
  name: string,
  mountPath: string,
  sizeLimit: string | undefined,
  origin: SourceOrigin,
  ctx: WalkContext,
) {
  const emptyDir = sizeLimit === undefined ? { medium: 'Memory' } : { medium: 'Memory', sizeLimit };
  return {
    ...fragment(['pod', 'volumes'], [{ name, emptyDir }], origin, ctx),
    ...fragment(['container', 'volumeMounts'], [{ name, mountPath }], origin, ctx),
  };
}

/** `shared_memory: 1024` (MiB) → a 1024Mi memory-backed volume `dshm` at /dev/shm. */
const sharedMemory: Shorthand = (raw, doc, ctx) => {
  const size = sizeOf(raw, 'Mi', doc, ctx);
  return size === undefined ? undefined : memoryVolume('dshm', '/dev/shm', size, originAt(ctx, doc), ctx);
};

/** Half of a quantity such as `4096M` or `3Gi` (→ `2048M`, `1.5Gi`), for the default tmpfs size. */
function halfOf(quantity: unknown): string | undefined {
  const match = typeof quantity === 'string' ? /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(quantity) : null;
  return match ? `${Number(match[1]) / 2}${match[2]}` : undefined;
}

/** Reads a set layer key in any spelling the top level accepts (`use_tmpfs`, `useTmpfs`...); empty = unset. */
function entryOf(layer: JsonObject, snake: string): [string, unknown] | undefined {
  return Object.entries(layer).find(([k, v]) => squashKey(k) === squashKey(snake) && v !== null);
}

/**
 * `use_tmpfs` / `tmpfs_size` (MiB) / `tmpfs_path` (default `/tmp`): a memory-backed volume `tmpfs`.
 * A size or path alone switches it on, unless `use_tmpfs: false`. Without a size, half the layer's memory
 * (limit, else request) is used when known.
 */
export function tmpfs(
  layer: JsonObject,
  base: DocumentPath,
  memoryQuantity: unknown,
  ctx: WalkContext,
): JsonObject | undefined {
  const use = entryOf(layer, 'use_tmpfs');
  const size = entryOf(layer, 'tmpfs_size');
  const path = entryOf(layer, 'tmpfs_path');
  const on = use ? asBoolean(use[1]) : undefined;
  if (use && on === undefined) {
    report(ctx, 'INVALID_TYPE', [...base, use[0]], `expected true or false, got ${describeValue(use[1])}.`);
    return undefined;
  }
  if (on === false || (!use && !size && !path)) return undefined;
  if (path && (typeof path[1] !== 'string' || !path[1].startsWith('/'))) {
    report(ctx, 'INVALID_VALUE', [...base, path[0]], 'expected an absolute mount path such as /tmp.');
    return undefined;
  }
  const sizeLimit = size ? sizeOf(size[1], 'Mi', [...base, size[0]], ctx) : halfOf(memoryQuantity);
  if (size && sizeLimit === undefined) return undefined;
  const origin = originAt(ctx, [...base, (use ?? size ?? path)![0]]);
  return memoryVolume(TMPFS_VOLUME, (path?.[1] as string | undefined) ?? '/tmp', sizeLimit, origin, ctx);
}

/** The name of the memory-backed volume `use_tmpfs` adds (`TMPDIR` points at its mount: tmpdir.ts). */
export const TMPFS_VOLUME = 'tmpfs';

/** `port: 8080` → `container.ports: [{containerPort: 8080}]`. */
const port: Shorthand = (raw, doc, ctx) => {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw > 0 && raw < 65536) {
    return fragment(['container', 'ports'], [{ containerPort: raw }], originAt(ctx, doc), ctx);
  }
  report(ctx, 'INVALID_VALUE', doc, `expected a port number between 1 and 65535, got ${quoteValue(raw)}.`);
  return undefined;
};

/**
 * A Kueue name (`queue_name`, `workload_priority_class`) → the canonical top-level field. Kueue reads it
 * from a label and checks it as an object name: a DNS-1123 subdomain of at most 63 characters.
 */
function kueueName(field: 'queueName' | 'workloadPriorityClass', what: string): Shorthand {
  return (raw, doc, ctx) => {
    const name = typeof raw === 'string' ? raw.trim() : undefined;
    const problem =
      name === undefined
        ? `expected the name of a ${what}, got ${describeValue(raw)}`
        : (labelValueProblem(name) ?? dnsSubdomainProblem(name));
    if (problem === undefined) return fragment([field], name, originAt(ctx, doc), ctx);
    report(
      ctx,
      'INVALID_LABEL',
      doc,
      name === undefined ? `${problem}.` : `the ${what} "${name}" ${problem} (Kueue reads it from a label).`,
    );
    return undefined;
  };
}

/** A switch → the canonical top-level boolean `field` (PyYAML's yes/no/on/off included). */
function flag(field: 'tmpfsTempdir' | 'retryDisruptions'): Shorthand {
  return (raw, doc, ctx) => {
    const on = asBoolean(raw);
    if (on !== undefined) return fragment([field], on, originAt(ctx, doc), ctx);
    report(ctx, 'INVALID_TYPE', doc, `expected true or false, got ${describeValue(raw)}.`);
    return undefined;
  };
}

/** Shorthands that `!remove` can undo, with the canonical field each one sets. */
export const REMOVABLE_SHORTHANDS: Readonly<Record<string, readonly string[]>> = {
  cpu: [...REQUESTS, 'cpu'],
  memory: [...REQUESTS, 'memory'],
  disk: [...REQUESTS, 'ephemeral-storage'],
  queueName: ['queueName'],
  workloadPriorityClass: ['workloadPriorityClass'],
  tmpfsTempdir: ['tmpfsTempdir'],
  retryDisruptions: ['retryDisruptions'],
};

/** The computed shorthands, by their API-style name. Relocations (image, labels, ...) are in normalize.ts. */
export const SHORTHANDS: Readonly<Record<string, Shorthand>> = {
  cpu,
  memory,
  disk,
  gpu,
  gpuVendor,
  secrets,
  persistentVolumeClaims,
  sharedMemory,
  port,
  queueName: kueueName('queueName', 'Kueue LocalQueue'),
  workloadPriorityClass: kueueName('workloadPriorityClass', 'Kueue WorkloadPriorityClass'),
  tmpfsTempdir: flag('tmpfsTempdir'),
  retryDisruptions: flag('retryDisruptions'),
};
