import { ConfigError, type ConfigIssue, type SourceLocation } from '../errors/config-error.js';
import type { ConfigSnapshot, DocumentPath, RawDocument } from '../ports/config-source.js';
import { describeCycle, findCycle } from './dag-cycle.js';
import { didYouMean } from './did-you-mean.js';
import { sortIssues } from './issues.js';
import {
  BLOCK_KEYS,
  DocumentChecker,
  describe,
  EXECUTOR_TYPES,
  isRetryKey,
  PIPELINE_KEYS,
} from './mage-keys.js';
import { isPlainObject } from './merge.js';
import { checkProjectDocument, projectExecutorType } from './project.js';
import { type RetryConfig, retryOf } from './retry-config.js';
import { asBoolean } from './scalars.js';
import { notExecutorSettings } from './schema-walk.js';
import { brokenFiles } from './snapshot-files.js';
import type { ConfigWarning } from './warnings.js';

export type { RetryConfig } from './retry-config.js';

/** One block of a pipeline. */
export interface BlockDefinition {
  /** The block's uuid. */
  uuid: string;
  /** Mage's block type (`data_loader`, `transformer`, ...). */
  type?: string;
  /** The blocks that must succeed first. */
  upstream: string[];
  /**
   * As Mage picks it: the block's executor_type; when empty or `local_python`, the pipeline's (else the
   * project's); when still empty or `local_python`, `DEFAULT_EXECUTOR_TYPE`; else `local_python`.
   */
  executorType: string;
  /** The block's `retry_config` over the project's `retry_config`, when either is set. */
  retry?: RetryConfig;
  /** Where the block is defined. */
  location?: SourceLocation;
}

/** A pipeline: its blocks in file order. */
export interface PipelineDefinition {
  /** The pipeline's uuid. */
  uuid: string;
  /** The pipeline's executor_type, else the project's; when empty or `local_python`, `DEFAULT_EXECUTOR_TYPE`, else `local_python`. */
  executorType: string;
  /** Its blocks, in file order. */
  blocks: BlockDefinition[];
  /** The pipeline-level `retry_config`, if any. */
  retry?: RetryConfig;
  /**
   * Mage's switch for one Job per pipeline run (the whole pipeline in one process): the pipeline's
   * `run_pipeline_in_one_process`, else the `RUN_PIPELINE_IN_ONE_PROCESS` environment variable (`true`, `1`
   * or `t`, any case), else false. Mage honours it when the pipeline's executor type is `k8s`.
   */
  runPipelineInOneProcess: boolean;
}

const DEFAULT_EXECUTOR = 'local_python';

/**
 * How a pipeline runs when the caller does not say: as one Job (`single-job`) when it sets
 * `run_pipeline_in_one_process` and its executor type is `k8s` (Mage's rule), else one Job per block (`dag`).
 * An explicit mode always wins.
 */
export function runModeOf(
  pipeline: Pick<PipelineDefinition, 'runPipelineInOneProcess' | 'executorType'>,
  explicit?: 'dag' | 'single-job',
): 'dag' | 'single-job' {
  if (explicit) return explicit;
  return pipeline.runPipelineInOneProcess && pipeline.executorType === 'k8s' ? 'single-job' : 'dag';
}

/**
 * Checks that every block uuid a run option names (`blockOverrides`, a `rerunChanged` list, ...) is a
 * block of the pipeline: one `UNKNOWN_BLOCK` issue per unknown uuid, with the option as its path.
 * @throws ConfigError (`CONFIG_INVALID`) listing them.
 */
export function checkNamedBlocks(
  pipeline: Pick<PipelineDefinition, 'uuid' | 'blocks'>,
  named: readonly { uuid: string; path: string }[],
): void {
  const known = pipeline.blocks.map((b) => b.uuid);
  const unknown = named.filter(({ uuid }) => !known.includes(uuid));
  if (unknown.length === 0) return;
  throw new ConfigError(
    unknown.map(({ uuid, path }) => ({
      code: 'UNKNOWN_BLOCK' as const,
      path,
      message: `${path} names block "${uuid}", which pipeline "${pipeline.uuid}" does not have: the blocks are ${known.map((k) => `"${k}"`).join(', ') || 'none'}.`,
    })),
  );
}

/**
 * Reads blocks, `upstream_blocks`, executor types, `retry_config` and `run_pipeline_in_one_process` of the
 * snapshot's pipeline, as Mage reads them, checking every key and value type of the file.
 *
 * @throws ConfigError (`CONFIG_INVALID`) when the pipeline is missing or cannot be parsed, a key is unknown,
 * a value has the wrong type, a block has no uuid or a duplicate one, an upstream block does not exist
 * (`UNKNOWN_UPSTREAM`) or the blocks form a cycle (`DAG_CYCLE`).
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
  if (syntax.length > 0 || issues.length > 0) throw new ConfigError(sortIssues([...syntax, ...issues]));
  return definition;
}

/**
 * The pipeline definition, its structural problems and warnings (for validation, which must not throw).
 * A file that failed to parse gets no checks here: its parse errors are its problems.
 */
export function parsePipeline(
  snapshot: ConfigSnapshot,
  document: RawDocument,
): { definition: PipelineDefinition; issues: ConfigIssue[]; warnings: ConfigWarning[] } {
  const check = new DocumentChecker(document);
  const at = (path: DocumentPath): SourceLocation => document.locate(path) ?? { file: document.file };
  const add = check.add.bind(check);
  const broken = brokenFiles(snapshot).has(document.file);
  const root = !broken && isPlainObject(document.value) ? document.value : {};
  if (!broken && !isPlainObject(document.value)) {
    add(
      document.value === null ? 'INVALID_VALUE' : 'INVALID_TYPE',
      [],
      document.value === null
        ? 'the pipeline file is empty: it needs at least `blocks:` with one block {uuid, ...}.'
        : `expected a map with blocks, executor_type, executor_config, ..., got ${describe(document.value)}.`,
    );
  }
  check.keys(root, [], 'the pipeline metadata.yaml', PIPELINE_KEYS, {
    retry_config: isRetryKey,
    executor_config: (key) => key !== 'blocks' && !PIPELINE_KEYS.includes(key),
  });
  const project = checkProjectDocument(snapshot);
  const env = snapshot.env;
  const typeOf = (value: unknown, path: DocumentPath) => check.renderedExecutorType(value, path, env);
  const projectType = projectExecutorType(snapshot);
  const pipelineOwn = typeOf(root.executor_type, ['executor_type']) ?? projectType;
  const fallback = defaultExecutorType(env);
  const orDefault = (type: string | undefined) => (!type || type === DEFAULT_EXECUTOR ? fallback : type);
  const pipelineType = orDefault(pipelineOwn);
  const projectRetry = project.retryConfig;
  if (root.executor_config != null && !isPlainObject(root.executor_config)) {
    add('INVALID_TYPE', ['executor_config'], notExecutorSettings(root.executor_config));
  }
  for (const key of ['uuid', 'type'] as const) {
    if (root[key] != null && typeof root[key] !== 'string')
      add('INVALID_TYPE', [key], `expected a string, got ${describe(root[key])}.`);
  }
  if (root.variables != null && !isPlainObject(root.variables))
    add(
      'INVALID_TYPE',
      ['variables'],
      `expected a map of variable names to values, got ${describe(root.variables)}.`,
    );
  const oneProcess = root.run_pipeline_in_one_process;
  let runPipelineInOneProcess = ['true', '1', 't'].includes(
    (env.RUN_PIPELINE_IN_ONE_PROCESS ?? '').toLowerCase(),
  );
  if (oneProcess != null) {
    const flag = asBoolean(oneProcess);
    if (flag === undefined)
      add(
        'INVALID_TYPE',
        ['run_pipeline_in_one_process'],
        `expected true or false, got ${describe(oneProcess)}.`,
      );
    else runPipelineInOneProcess = flag;
  }

  const rawBlocks = Array.isArray(root.blocks) ? root.blocks : [];
  if (root.blocks != null && !Array.isArray(root.blocks)) {
    add('INVALID_TYPE', ['blocks'], 'expected a list of blocks {uuid, type, upstream_blocks, ...}.');
  }
  const pyspark = root.type === 'pyspark';
  const blocks: BlockDefinition[] = [];
  // Where each block is in the file's list (its first definition), so no check rescans the list.
  const indexOf = new Map<string, number>();
  rawBlocks.forEach((raw, index) => {
    const path = ['blocks', index];
    if (!isPlainObject(raw)) {
      add(
        raw == null ? 'INVALID_VALUE' : 'INVALID_TYPE',
        path,
        `expected a block {uuid, type, upstream_blocks, ...}, got ${describe(raw)}.`,
      );
      return;
    }
    const block = raw;
    check.keys(
      block,
      path,
      `block ${typeof block.uuid === 'string' ? `"${block.uuid}"` : index}`,
      BLOCK_KEYS,
      {
        retry_config: isRetryKey,
        executor_config: (key) => !BLOCK_KEYS.includes(key),
      },
    );
    if (typeof block.uuid !== 'string' || block.uuid === '') {
      add('INVALID_VALUE', path, 'every block needs a uuid.');
      return;
    }
    if (indexOf.has(block.uuid)) {
      add(
        'INVALID_VALUE',
        [...path, 'uuid'],
        `block uuid "${block.uuid}" is used twice: block uuids must be unique.`,
      );
      return;
    }
    if (block.executor_config != null && !isPlainObject(block.executor_config)) {
      add('INVALID_TYPE', [...path, 'executor_config'], notExecutorSettings(block.executor_config));
    }
    if (block.type != null && typeof block.type !== 'string')
      add(
        'INVALID_TYPE',
        [...path, 'type'],
        `expected a block type such as "transformer", got ${describe(block.type)}.`,
      );
    const own = typeOf(block.executor_type, [...path, 'executor_type']);
    const retry = retryOf(projectRetry, block.retry_config, [...path, 'retry_config'], add);
    // A pyspark pipeline runs its blocks with the pyspark executor (sensors keep their own, as in Mage).
    const chosen =
      pyspark && block.type !== 'sensor'
        ? 'pyspark'
        : orDefault(own && own !== DEFAULT_EXECUTOR ? own : (pipelineOwn ?? own));
    indexOf.set(block.uuid, index);
    blocks.push({
      uuid: block.uuid,
      ...(typeof block.type === 'string' ? { type: block.type } : {}),
      upstream: upstreamOf(block.upstream_blocks, [...path, 'upstream_blocks'], add),
      executorType: chosen,
      ...(retry ? { retry } : {}),
      location: at(path),
    });
  });

  const known = new Set(blocks.map((b) => b.uuid));
  for (const block of blocks) {
    const index = indexOf.get(block.uuid) ?? -1;
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
    const index = indexOf.get(cycle[0]!) ?? -1;
    add(
      'DAG_CYCLE',
      ['blocks', index, 'upstream_blocks'],
      `the blocks form a cycle (each one waits for the next): ${describeCycle(cycle)}. Remove one of these upstream links.`,
    );
  }
  const pipelineRetry = retryOf(undefined, root.retry_config, ['retry_config'], add);
  const folder = pipelineFolder(document.file);
  const written = typeof root.uuid === 'string' ? root.uuid : undefined;
  if (folder !== undefined && written !== undefined && written !== folder) {
    const location = document.locate(['uuid']);
    check.warnings.push({
      code: 'PIPELINE_UUID_MISMATCH',
      path: 'uuid',
      message: `the pipeline's uuid "${written}" is not the name of its folder "${folder}": Mage knows a pipeline by its folder, and so does k8s-executor (run it with --pipeline ${folder}); set uuid: ${folder}, or rename the folder.`,
      ...(location ? { location } : {}),
    });
  }
  const uuid = folder ?? written ?? lastFolder(document.file);
  return {
    definition: {
      uuid,
      executorType: pipelineType,
      blocks,
      ...(pipelineRetry ? { retry: pipelineRetry } : {}),
      runPipelineInOneProcess,
    },
    issues: [...check.issues, ...project.issues],
    warnings: [...check.warnings, ...project.warnings],
  };
}

/**
 * `DEFAULT_EXECUTOR_TYPE` as Mage reads it: used when it names an executor type (any case), else
 * `local_python`.
 */
export function defaultExecutorType(env: Readonly<Record<string, string | undefined>>): string {
  const value = env.DEFAULT_EXECUTOR_TYPE?.trim().toLowerCase();
  return value && EXECUTOR_TYPES.includes(value) ? value : DEFAULT_EXECUTOR;
}

/** `upstream_blocks`: a list of block uuids (empty = none). */
function upstreamOf(value: unknown, path: DocumentPath, add: DocumentChecker['add']): string[] {
  if (value == null) return [];
  if (!Array.isArray(value)) {
    add(
      'INVALID_TYPE',
      path,
      `expected a list of block uuids, e.g. [${typeof value === 'string' ? value : 'load'}], got ${describe(value)}.`,
    );
    return [];
  }
  return value.flatMap((item, i) => {
    if (typeof item === 'string') return [item];
    if (item !== null) add('INVALID_TYPE', [...path, i], `expected a block uuid, got ${describe(item)}.`);
    return [];
  });
}

/** The folder a pipeline's metadata.yaml sits in: its uuid. */
function lastFolder(file: string): string {
  const parts = file.split(/[/\\]/);
  return parts.at(-2) ?? file;
}

/** The `<uuid>` of a file `.../pipelines/<uuid>/metadata.yaml`, the pipeline's uuid for Mage. */
function pipelineFolder(file: string): string | undefined {
  const parts = file.split(/[/\\]/);
  return parts.at(-3) === 'pipelines' ? parts.at(-2) : undefined;
}
