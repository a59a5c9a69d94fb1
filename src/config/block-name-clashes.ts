import type { ConfigIssue } from '../errors/config-error.js';
import { runIdClashes } from '../naming/run-id-clashes.js';
import { formatDocumentPath } from './paths.js';
import type { BlockDefinition } from './pipeline.js';

/**
 * One problem per block of a dag run whose Job would take the name of an earlier block's Job: their default
 * block run ids (`<pipelineRunId>-<uuid>`) differ only in case or `_` versus `-` (`a_b`, `a-b`), which a
 * Job name cannot tell apart, so the second block would fail `JOB_NAME_COLLISION` at run time. Reported at
 * the later block's uuid, naming the earlier one and its line. Pure.
 *
 * @param blocks the blocks that run as Kubernetes Jobs, in file order.
 * @param indexOf where a block is in the file's `blocks` list.
 */
export function blockNameClashes(
  blocks: readonly BlockDefinition[],
  indexOf: (uuid: string) => number,
): ConfigIssue[] {
  const byUuid = new Map(blocks.map((b) => [b.uuid, b]));
  // Any pipeline run id that needs no hash of its own (Mage's are integers) shows the clash.
  const clashes = runIdClashes(blocks.map((b) => [b.uuid, `0-${b.uuid}`] as const));
  return clashes.flatMap(([first, ...later]) =>
    later.map((uuid) => {
      const earlier = byUuid.get(first!)?.location?.line;
      const location = byUuid.get(uuid)?.location;
      return {
        code: 'INVALID_VALUE' as const,
        path: formatDocumentPath(['blocks', indexOf(uuid), 'uuid']),
        message:
          `block "${uuid}" would get the same Job name as block "${first}"${earlier !== undefined ? ` (line ${earlier})` : ''}: ` +
          'block uuids that differ only in case or in "_" versus "-" give the same block run id in a Job name ' +
          `("<pipelineRunId>-${uuid.toLowerCase().replaceAll('_', '-')}"), so the second block could not create its Job. ` +
          'Rename one of them (and the upstream_blocks that name it).',
        ...(location ? { location } : {}),
      };
    }),
  );
}
