import type { ConfigSnapshot } from '../ports/config-source.js';

/** The files that failed to parse (their YAML_SYNTAX issues are in the snapshot). */
export function brokenFiles(snapshot: ConfigSnapshot): ReadonlySet<string> {
  const files = new Set<string>();
  for (const issue of snapshot.issues)
    if (issue.code === 'YAML_SYNTAX' && issue.location) files.add(issue.location.file);
  return files;
}
