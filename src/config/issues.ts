import type { ConfigIssue } from '../errors/config-error.js';

/** Issues sorted by file, line and column (issues without a file last), duplicates removed. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const key = JSON.stringify([
      issue.code,
      issue.path,
      issue.message,
      issue.location?.file,
      issue.location?.line,
    ]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const rank = (i: ConfigIssue) =>
    [i.location?.file ?? '\uffff', i.location?.line ?? 0, i.location?.column ?? 0] as const;
  return unique
    .map((issue, index) => ({ issue, index, at: rank(issue) }))
    .sort((a, b) =>
      a.at[0] !== b.at[0]
        ? a.at[0] < b.at[0]
          ? -1
          : 1
        : a.at[1] - b.at[1] || a.at[2] - b.at[2] || a.index - b.index,
    )
    .map(({ issue }) => issue);
}
