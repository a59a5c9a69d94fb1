import {
  type CollectionTag,
  isCollection,
  isScalar,
  LineCounter,
  parseDocument,
  type ScalarTag,
  visit,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { REMOVE, replaceWith } from '../../config/markers.js';
import type { ConfigIssue } from '../../errors/config-error.js';
import type { RawDocument } from '../../ports/config-source.js';
import { isMergeKey, locatorOf } from './yaml-locator.js';

/**
 * Parses YAML text into a {@link RawDocument} that knows the file:line:column of every key and value.
 * Never throws: syntax errors come back as `YAML_SYNTAX` issues (the first one of each line, so that one
 * mistake is one problem; a duplicate key names the key and both lines), and the value is whatever could
 * be read (or `null`). Read as PyYAML reads Mage's files where the two differ in structure: merge keys
 * (`<<: *defaults`) are applied. Scalars follow YAML 1.2 (`yes` is a string here; normalization reads it as
 * a boolean where a boolean is expected). The tags `!remove` and `!replace` become {@link REMOVE} and
 * `replaceWith(...)` (docs/configuration.md §5).
 *
 * @example
 * const { doc } = parseYamlDocument('a:\n  b: 1\n', 'metadata.yaml');
 * doc.locate(['a', 'b']); // { file: 'metadata.yaml', line: 2, column: 3 }
 */
export function parseYamlDocument(text: string, file: string): { doc: RawDocument; issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, merge: true, uniqueKeys: false, customTags: TAGS });
  const issues: ConfigIssue[] = [];
  const lines = text.split(/\r?\n/);
  const reported = new Set<number>();
  const add = (offset: number | undefined, message: string): void => {
    const at = offset === undefined ? undefined : lineCounter.linePos(offset);
    if (at) {
      if (reported.has(at.line)) return;
      reported.add(at.line);
    }
    issues.push({
      code: 'YAML_SYNTAX',
      path: '',
      message,
      location: at ? { file, line: at.line, column: at.col } : { file },
    });
  };
  for (const error of document.errors) {
    const offset = error.pos[0];
    const line = lines[lineCounter.linePos(offset).line - 1] ?? '';
    add(
      offset,
      `${firstLine(error.message)} (${error.code})${hintFor(error.code, line)}: fix the YAML syntax.`,
    );
  }
  // A key that is itself a map or list (`[a]: 1`, `? {a: 1}`) has no meaning in a config; yaml would
  // stringify it and print a process warning. Report it where it stands instead.
  let collectionKeys = false;
  visit(document, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return;
      collectionKeys = true;
      add(pair.key.range?.[0], 'a key that is a map or a list is not allowed here: use a plain string key.');
    },
    Map(_, map) {
      const first = new Map<string, number | undefined>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || isMergeKey(pair.key)) continue;
        const key = String(pair.key.value);
        const offset = pair.key.range?.[0];
        if (!first.has(key)) {
          first.set(key, offset);
          continue;
        }
        const firstLine = lineOf(lineCounter, first.get(key));
        add(
          offset,
          `duplicate key "${key}": it is already set on line ${firstLine}; keep one of the two (DUPLICATE_KEY)`,
        );
      }
    },
  });
  issues.sort((a, b) => (a.location?.line ?? 0) - (b.location?.line ?? 0));
  let value: unknown = null;
  try {
    value = collectionKeys ? null : (document.toJS({ maxAliasCount: 1000 }) ?? null);
  } catch (error) {
    issues.push({
      code: 'YAML_SYNTAX',
      path: '',
      message: `${firstLine(String(error))}: fix the YAML.`,
      location: { file },
    });
  }
  return { doc: { file, value, locate: locatorOf(document, lineCounter, file) }, issues };
}

/** `!replace` on a map or a list: the value replaces lower layers' value whole (see markers.ts). */
// yaml types toJSON as returning the collection's own JS type; the replacement wraps it instead.
class ReplacingMap extends YAMLMap {
  override toJSON(key?: unknown, ctx?: Parameters<YAMLMap['toJSON']>[1]): never {
    return replaceWith(super.toJSON(key, ctx)) as never;
  }
}
class ReplacingSeq extends YAMLSeq {
  override toJSON(key?: unknown, ctx?: Parameters<YAMLSeq['toJSON']>[1]): never {
    return replaceWith(super.toJSON(key, ctx)) as never;
  }
}

const noValue = (tag: string) => `${tag} takes no value: write \`key: ${tag}\``;
const TAGS: (ScalarTag | CollectionTag)[] = [
  {
    tag: '!remove',
    resolve(source: string, onError: (message: string) => void) {
      if (source !== '') onError(noValue('!remove'));
      return REMOVE;
    },
  },
  ...(['map', 'seq'] as const).map(
    (collection): CollectionTag => ({
      tag: '!remove',
      collection,
      resolve(_node, onError) {
        onError(noValue('!remove'));
        return REMOVE as unknown as YAMLMap;
      },
    }),
  ),
  { tag: '!replace', collection: 'map', nodeClass: ReplacingMap, resolve: (node) => node },
  { tag: '!replace', collection: 'seq', nodeClass: ReplacingSeq, resolve: (node) => node },
  {
    tag: '!replace',
    resolve(source: string, onError: (message: string) => void) {
      onError('!replace takes a map or a list (a plain value replaces the lower one anyway)');
      return source;
    },
  },
];

function lineOf(lineCounter: LineCounter, offset: number | undefined): number | string {
  return offset === undefined ? '?' : lineCounter.linePos(offset).line;
}

/** A likelier cause than yaml's words for the usual mistakes. */
function hintFor(code: string, line: string): string {
  const text = line.trim();
  if (
    ['MULTILINE_IMPLICIT_KEY', 'BLOCK_AS_IMPLICIT_KEY', 'MISSING_CHAR'].includes(code) &&
    text !== '' &&
    !text.includes(':') &&
    !text.startsWith('-') &&
    !text.startsWith('#')
  ) {
    return `; "${text}" has no ":" — a setting is written \`key: value\``;
  }
  if (code === 'TAB_AS_INDENT') return '; indent with spaces';
  return '';
}

/** The first line of a yaml message, without its own "at line N, column M" (the location says it). */
function firstLine(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
}
