import { ConfigError, type ConfigIssue, type SourceLocation } from '../errors/config-error.js';
import type { ConfigSnapshot, DocumentPath, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { didYouMean } from './did-you-mean.js';
import { sortIssues } from './issues.js';
import { isPlainObject } from './merge.js';
import { formatDocumentPath } from './paths.js';

/** Mage's `retry_config`, with Mage's defaults filled in. */
export interface RetryConfig {
  /** How many times a failed block is tried again. @default 0 */
  retries: number;
  /** Seconds before the first retry. @default 5 */
  delaySeconds: number;
  /** The longest wait between retries, in seconds. @default 60 */
  maxDelaySeconds: number;
  /** Double the delay after each retry. @default false */
  exponentialBackoff: boolean;
}

/** One block of a pipeline. */
export interface BlockDefinition {
  uuid: string;
  /** Mage's block type (`data_loader`, `transformer`, ...). */
  type?: string;
  /** The blocks that must succeed first. */
  upstream: string[];
  /** The block's executor_type, else the pipeline's, else the project's, else `local_python` (lowercase). */
  executorType: string;
  /** The block's `retry_config` over the project's `retry_config`, when either is set. */
  retry?: RetryConfig;
  /** Where the block is defined. */
  location?: SourceLocation;
}

/** A pipeline: its blocks in file order. */
export interface PipelineDefinition {
  uuid: string;
  /** The pipeline's executor_type, else the project's, else `local_python` (lowercase). */
  executorType: string;
  blocks: BlockDefinition[];
  /** The pipeline-level `retry_config`, if any. */
  retry?: RetryConfig;
}

const DEFAULT_EXECUTOR = 'local_python';

/**
 * Reads blocks, `upstream_blocks`, executor types and `retry_config` of the snapshot's pipeline. Executor
 * types are compared lowercase; an empty or `local_python` block type falls back to the pipeline's, then
 * the project's `executor_type`.
 *
 * @throws ConfigError (`CONFIG_INVALID`) when the pipeline is missing, a block has no uuid or a duplicate
 * one, an upstream block does not exist (`UNKNOWN_UPSTREAM`) or the blocks form a cycle (`DAG_CYCLE`).
 */
export function readPipeline(snapshot: ConfigSnapshot): PipelineDefinition {
  const document = snapshot.pipeline;
  if (!document) {
    const found = snapshot.issues.filter((i) => i.code === 'UNKNOWN_PIPELINE' || i.code === 'FILE_NOT_FOUND');
    throw new ConfigError(
      found.length > 0
        ? found
        : [
            {
              code: 'UNKNOWN_PIPELINE',
              path: '',
              message: 'no pipeline was loaded: load the snapshot with a pipeline uuid.',
            },
          ],
    );
  }
  const { definition, issues } = parsePipeline(snapshot, document);
  const syntax = snapshot.issues.filter((i) => i.location?.file === document.file);
  if (issues.length > 0) throw new ConfigError(sortIssues([...syntax, ...issues]));
  return definition;
}

/** The pipeline definition and its structural problems (for validation, which must not throw). */
export function parsePipeline(
  snapshot: ConfigSnapshot,
  document: RawDocument,
): { definition: PipelineDefinition; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const at = (path: DocumentPath): SourceLocation => document.locate(path) ?? { file: document.file };
  const add = (code: ConfigIssue['code'], path: DocumentPath, message: string) =>
    issues.push({ code, path: formatDocumentPath(path), message, location: at(path) });
  const root = isPlainObject(document.value) ? document.value : {};
  const project = isPlainObject(snapshot.project?.value) ? snapshot.project.value : {};
  const projectType = executorTypeOf(project.executor_type);
  const pipelineType = executorTypeOf(root.executor_type) ?? projectType ?? DEFAULT_EXECUTOR;
  const projectRetry = isPlainObject(project.retry_config) ? project.retry_config : undefined;

  const rawBlocks = Array.isArray(root.blocks) ? root.blocks : [];
  if (root.blocks !== undefined && root.blocks !== null && !Array.isArray(root.blocks)) {
    add('INVALID_TYPE', ['blocks'], 'expected a list of blocks {uuid, type, upstream_blocks, ...}.');
  }
  const blocks: BlockDefinition[] = [];
  rawBlocks.forEach((raw, index) => {
    const block = isPlainObject(raw) ? raw : {};
    if (typeof block.uuid !== 'string' || block.uuid === '') {
      add('INVALID_VALUE', ['blocks', index], 'every block needs a uuid.');
      return;
    }
    if (blocks.some((b) => b.uuid === block.uuid)) {
      add(
        'INVALID_VALUE',
        ['blocks', index, 'uuid'],
        `block uuid "${block.uuid}" is used twice: block uuids must be unique.`,
      );
      return;
    }
    const own = executorTypeOf(block.executor_type);
    const retry = retryOf(projectRetry, block.retry_config, ['blocks', index, 'retry_config'], add);
    blocks.push({
      uuid: block.uuid,
      ...(typeof block.type === 'string' ? { type: block.type } : {}),
      upstream: stringList(block.upstream_blocks),
      executorType: own && own !== DEFAULT_EXECUTOR ? own : pipelineType,
      ...(retry ? { retry } : {}),
      location: at(['blocks', index]),
    });
  });

  const known = new Set(blocks.map((b) => b.uuid));
  for (const block of blocks) {
    const index = rawBlocks.findIndex((b) => isPlainObject(b) && b.uuid === block.uuid);
    block.upstream.forEach((upstream, i) => {
      if (known.has(upstream)) return;
      const guess = didYouMean(upstream, known);
      add(
        'UNKNOWN_UPSTREAM',
        ['blocks', index, 'upstream_blocks', i],
        `block "${block.uuid}" depends on "${upstream}", which is not a block of this pipeline${guess ? `; did you mean "${guess}"?` : '.'}`,
      );
    });
  }
  const cycle = findCycle(blocks.map((b) => ({ ...b, upstream: b.upstream.filter((u) => known.has(u)) })));
  if (cycle) {
    const index = rawBlocks.findIndex((b) => isPlainObject(b) && b.uuid === cycle[0]);
    add(
      'DAG_CYCLE',
      ['blocks', index, 'upstream_blocks'],
      `the blocks form a cycle (each one waits for the next): ${cycle.join(' → ')}. Remove one of these upstream links.`,
    );
  }
  const pipelineRetry = retryOf(undefined, root.retry_config, ['retry_config'], add);
  const uuid = typeof root.uuid === 'string' ? root.uuid : lastFolder(document.file);
  return {
    definition: {
      uuid,
      executorType: pipelineType,
      blocks,
      ...(pipelineRetry ? { retry: pipelineRetry } : {}),
    },
    issues,
  };
}

function executorTypeOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The folder a pipeline's metadata.yaml sits in: its uuid. */
function lastFolder(file: string): string {
  const parts = file.split(/[/\\]/);
  return parts.at(-2) ?? file;
}

/** Mage's retry_config (block over project), with Mage's defaults for missing keys. */
function retryOf(
  base: JsonObject | undefined,
  own: unknown,
  path: DocumentPath,
  add: (code: ConfigIssue['code'], path: DocumentPath, message: string) => void,
): RetryConfig | undefined {
  if (own !== undefined && own !== null && !isPlainObject(own)) {
    add('INVALID_TYPE', path, 'expected a map {retries, delay, max_delay, exponential_backoff}.');
  }
  if (!base && !isPlainObject(own)) return undefined;
  const merged = { ...base, ...(isPlainObject(own) ? own : {}) };
  const number = (key: string, fallback: number): number => {
    const value = merged[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && value >= 0) return value;
    add('INVALID_VALUE', [...path, key], `expected a number of 0 or more, got ${JSON.stringify(value)}.`);
    return fallback;
  };
  return {
    retries: number('retries', 0),
    delaySeconds: number('delay', 5),
    maxDelaySeconds: number('max_delay', 60),
    exponentialBackoff: merged.exponential_backoff === true,
  };
}

/** The first cycle found among the blocks (depth-first, file order), as uuids ending where it began. */
function findCycle(blocks: readonly { uuid: string; upstream: readonly string[] }[]): string[] | undefined {
  const upstreamOf = new Map(blocks.map((b) => [b.uuid, b.upstream]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (uuid: string): string[] | undefined => {
    if (state.get(uuid) === 'done') return undefined;
    if (state.get(uuid) === 'visiting') return [...stack.slice(stack.indexOf(uuid)), uuid];
    state.set(uuid, 'visiting');
    stack.push(uuid);
    for (const upstream of upstreamOf.get(uuid) ?? []) {
      const cycle = visit(upstream);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(uuid, 'done');
    return undefined;
  };
  for (const block of blocks) {
    const cycle = visit(block.uuid);
    if (cycle) return cycle;
  }
  return undefined;
}
