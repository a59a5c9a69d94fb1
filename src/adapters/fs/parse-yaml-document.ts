import {
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import type { ConfigIssue, SourceLocation } from '../../errors/config-error.js';
import type { DocumentPath, RawDocument } from '../../ports/config-source.js';

/**
 * Parses YAML text into a {@link RawDocument} that knows the file:line:column of every key and value.
 * Never throws: syntax errors (all of them, e.g. duplicate keys and bad indentation) come back as
 * `YAML_SYNTAX` issues, and the value is whatever could be read (or `null`).
 *
 * @example
 * const { doc } = parseYamlDocument('a:\n  b: 1\n', 'metadata.yaml');
 * doc.locate(['a', 'b']); // { file: 'metadata.yaml', line: 2, column: 3 }
 */
export function parseYamlDocument(text: string, file: string): { doc: RawDocument; issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  const issues: ConfigIssue[] = document.errors.map((error) => {
    const at = error.linePos?.[0];
    const location: SourceLocation = at ? { file, line: at.line, column: at.col } : { file };
    return {
      code: 'YAML_SYNTAX',
      path: '',
      message: `${firstLine(error.message)} (${error.code}): fix the YAML syntax.`,
      location,
    };
  });
  // A key that is itself a map or list (`[a]: 1`, `? {a: 1}`) has no meaning in a config; yaml would
  // stringify it and print a process warning. Report it where it stands instead.
  let collectionKeys = false;
  visit(document, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return;
      collectionKeys = true;
      const { line, col } = lineCounter.linePos(pair.key.range?.[0] ?? 0);
      issues.push({
        code: 'YAML_SYNTAX',
        path: '',
        message: 'a key that is a map or a list is not allowed here: use a plain string key.',
        location: { file, line, column: col },
      });
    },
  });
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
  const locate = (path: DocumentPath): SourceLocation | undefined => {
    const offset = offsetOf(document.contents as Node | null, path, (node) =>
      isAlias(node) ? (node.resolve(document) as Node | undefined) : node,
    );
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  return { doc: { file, value, locate }, issues };
}

/** The first line of a yaml message, without its own "at line N, column M" (the location says it). */
function firstLine(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
}

/** Offset of the key (for map entries) or item at `path`; the deepest found ancestor when it is missing. */
function offsetOf(
  root: Node | null,
  path: DocumentPath,
  deref: (node: Node) => Node | undefined,
): number | undefined {
  let node: Node | undefined = root ? deref(root) : undefined;
  let offset = node?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(segment),
      );
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value ? deref(pair.value as Node) : undefined;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = deref(item);
    } else break;
  }
  return offset;
}
