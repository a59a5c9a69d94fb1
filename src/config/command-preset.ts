import type { DocumentPath } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { didYouMean } from './did-you-mean.js';
import { LEAF } from './k8s-schema.js';
import { squashKey } from './key-case.js';
import { isRemove, REMOVE } from './markers.js';
import { isPlainObject } from './merge.js';
import { describeValue, originAt, report, unknownKeyMessage, type WalkContext, walk } from './schema-walk.js';
import { fragment } from './shorthands.js';
import type { CommandPreset } from './types.js';

/** The command presets (`command: mage`). */
export const COMMAND_PRESETS: readonly CommandPreset[] = ['mage'];

/**
 * `command: mage` (or `command: {preset: mage, repo_path: /home/src/proj}`): the Job runs the block with
 * Mage's own `mage run ...` command (docs/configuration.md §11). `command: !remove` drops a lower layer's
 * preset.
 */
export function commandPreset(raw: unknown, doc: DocumentPath, ctx: WalkContext): JsonObject | undefined {
  const origin = originAt(ctx, doc);
  if (isRemove(raw)) {
    return {
      ...fragment(['commandPreset'], REMOVE, origin, ctx),
      ...fragment(['mageRepoPath'], REMOVE, origin, ctx),
    };
  }
  const map = isPlainObject(raw) ? raw : undefined;
  const name = map ? map.preset : raw;
  if (map) {
    for (const key of Object.keys(map)) {
      if (key === 'preset' || squashKey(key) === 'repopath') continue;
      report(ctx, 'UNKNOWN_KEY', [...doc, key], unknownKeyMessage(key, 'command', ['preset', 'repoPath']));
    }
  }
  if (typeof name !== 'string' || !COMMAND_PRESETS.includes(name as CommandPreset)) {
    const guess = typeof name === 'string' ? didYouMean(name, COMMAND_PRESETS) : undefined;
    report(
      ctx,
      Array.isArray(raw) ? 'INVALID_TYPE' : 'INVALID_VALUE',
      map ? [...doc, 'preset'] : doc,
      Array.isArray(raw)
        ? 'a top-level `command` names a preset (`command: mage`): put a command list under `container.command`.'
        : `unknown command preset ${describeValue(name) === 'a string' ? `"${String(name)}"` : describeValue(name)}${guess ? `; did you mean "${guess}"?` : ''}: the presets are ${COMMAND_PRESETS.join(', ')}.`,
    );
    return undefined;
  }
  const out: JsonObject = fragment(['commandPreset'], name, origin, ctx);
  const repoKey = map && Object.keys(map).find((key) => squashKey(key) === 'repopath');
  if (repoKey !== undefined && map?.[repoKey] != null) {
    const repoPath = walk(map[repoKey], LEAF.str, { doc: [...doc, repoKey], canon: 'mageRepoPath' }, ctx);
    if (typeof repoPath === 'string' && !repoPath.startsWith('/')) {
      report(
        ctx,
        'INVALID_VALUE',
        [...doc, repoKey],
        "expected the absolute path of the project in the Job's container, e.g. /home/src/my_project.",
      );
    } else if (repoPath !== undefined) out.mageRepoPath = repoPath;
  }
  return out;
}
