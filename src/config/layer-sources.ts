import type { ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot, DocumentPath, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { isPlainObject } from './merge.js';
import { asBoolean } from './scalars.js';
import { describeValue } from './schema-walk.js';

/**
 * Where each user layer sits in its document: the project's `k8s_executor_config`, the pipeline's and a
 * block's `executor_config`, `K8S_CONFIG_FILE` (with or without Mage's wrapper) and the policy file.
 */

/** A layer's raw value, where it sits in its document, and the document (for file:line). */
export type RawSource = { value: unknown; path: DocumentPath; document: RawDocument };

/** The map under `key` of a document (`k8s_executor_config`, `executor_config`). */
export function sectionOf(document: RawDocument | undefined, key: string): RawSource | undefined {
  if (!document || !isPlainObject(document.value) || document.value[key] == null) return undefined;
  return { value: document.value[key], path: [key], document };
}

/** `K8S_CONFIG_FILE`: a layer at the top level, or inside Mage's `k8s_executor_config:` wrapper. */
export function templateOf(document: RawDocument | undefined, issues: ConfigIssue[]): RawSource | undefined {
  if (!document || document.value == null) return undefined;
  const wrapper = isPlainObject(document.value)
    ? Object.keys(document.value).find((k) => k === 'k8s_executor_config' || k === 'k8sExecutorConfig')
    : undefined;
  if (wrapper !== undefined && (document.value as JsonObject)[wrapper] == null) return undefined;
  if (wrapper === undefined) return { value: document.value, path: [], document };
  for (const key of Object.keys(document.value as JsonObject)) {
    if (key === wrapper) continue;
    const location = document.locate([key]);
    issues.push({
      code: 'UNKNOWN_KEY',
      path: key,
      message: `"${key}" is outside ${wrapper}: this file uses the ${wrapper} wrapper, so move "${key}" inside it.`,
      ...(location ? { location } : {}),
    });
  }
  return { value: (document.value as JsonObject)[wrapper], path: [wrapper], document };
}

/** The policy file: `enabled` (default true) and `enforce` (default false) beside the layer keys. */
export function policyOf(
  document: RawDocument | undefined,
  issues: ConfigIssue[],
): { raw: RawSource; enforce: boolean } | undefined {
  if (!document || document.value == null) return undefined;
  if (!isPlainObject(document.value)) {
    const location = document.locate([]);
    issues.push({
      code: 'INVALID_TYPE',
      path: '',
      message: `expected a map with enabled, enforce and executor settings, got ${describeValue(document.value)}.`,
      ...(location ? { location } : {}),
    });
    return undefined;
  }
  const { enabled: rawEnabled, enforce: rawEnforce, ...rest } = document.value;
  // Empty means not set; PyYAML's yes/no/on/off are booleans here.
  const enabled = rawEnabled ?? true;
  const enforce = rawEnforce ?? false;
  for (const [key, flag] of [
    ['enabled', enabled],
    ['enforce', enforce],
  ] as const) {
    if (asBoolean(flag) !== undefined) continue;
    const location = document.locate([key]);
    issues.push({
      code: 'INVALID_TYPE',
      path: key,
      message: `expected true or false, got ${describeValue(flag)}.`,
      ...(location ? { location } : {}),
    });
    return undefined;
  }
  return asBoolean(enabled)
    ? { raw: { value: rest, path: [], document }, enforce: asBoolean(enforce) === true }
    : undefined;
}

/** Where each block uuid first appears in a `blocks` list, built once per list (lists are never changed). */
const indexesOfList = new WeakMap<readonly unknown[], Map<unknown, number>>();

/**
 * Where block `uuid` first appears in `list`, -1 when it does not: linear once per list, then constant, so
 * resolving every block of a pipeline of thousands is not quadratic.
 */
function indexOfBlock(list: readonly unknown[], uuid: string | undefined): number {
  let indexes = indexesOfList.get(list);
  if (!indexes) {
    indexes = new Map();
    for (const [i, b] of list.entries()) if (isPlainObject(b) && !indexes.has(b.uuid)) indexes.set(b.uuid, i);
    indexesOfList.set(list, indexes);
  }
  return indexes.get(uuid) ?? -1;
}

/** The raw entry of block `uuid` in the pipeline's `blocks` list. */
export function rawBlock(snapshot: ConfigSnapshot, uuid: string | undefined): unknown {
  const document = snapshot.pipeline;
  const blocks = document && isPlainObject(document.value) ? document.value.blocks : undefined;
  return Array.isArray(blocks) ? blocks[indexOfBlock(blocks, uuid)] : undefined;
}

/** The block's `executor_config` in the pipeline's `blocks` list. */
export function blockOf(
  snapshot: ConfigSnapshot,
  blockUuid: string | undefined,
  issues: ConfigIssue[],
): RawSource | undefined {
  const document = snapshot.pipeline;
  const blocks = document && isPlainObject(document.value) ? document.value.blocks : undefined;
  const list = Array.isArray(blocks) ? blocks : [];
  const index = indexOfBlock(list, blockUuid);
  if (!document || index < 0) {
    if (!document && snapshot.issues.some((i) => i.code === 'UNKNOWN_PIPELINE')) return undefined;
    const known = list.flatMap((b) => (isPlainObject(b) && typeof b.uuid === 'string' ? [b.uuid] : []));
    issues.push({
      code: 'UNKNOWN_BLOCK',
      path: blockUuid === undefined ? '' : 'blocks',
      message:
        blockUuid === undefined
          ? 'a block run needs the block uuid: pass blockUuid (or identity.blockUuid).'
          : !document
            ? `block "${blockUuid}" cannot be found: no pipeline was loaded (load the snapshot with the pipeline uuid).`
            : `no block "${blockUuid}" in the pipeline: the blocks are ${known.map((k) => `"${k}"`).join(', ') || 'none'}.`,
      ...(document ? { location: { file: document.file } } : {}),
    });
    return undefined;
  }
  const block = list[index] as JsonObject;
  const path = ['blocks', index, 'executor_config'];
  return block.executor_config == null ? undefined : { value: block.executor_config, path, document };
}
