/** One requirement of a label selector. */
export type LabelRequirement =
  | { key: string; op: 'equals' | 'notEquals'; value: string }
  | { key: string; op: 'exists' | 'notExists' };

/** A parsed label selector: every requirement must hold. The empty selector matches everything. */
export type LabelSelector = readonly LabelRequirement[];

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/**
 * Parses the equality-based selector syntax the API server accepts: `a=b`, `a==b`, `a!=b`, `a`, `!a`,
 * joined by commas. Set-based forms (`in`, `notin`) are not supported.
 *
 * @returns the requirements, or a one-sentence problem when the selector is malformed.
 * @example parseLabelSelector('job-name=etl,tier!=web') // [{key:'job-name',op:'equals',value:'etl'}, ...]
 */
export function parseLabelSelector(selector: string): LabelSelector | string {
  const requirements: LabelRequirement[] = [];
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const match = /^(!?)([^!=]+?)\s*(?:(!=|==|=)\s*(.*))?$/.exec(term);
    const key = match?.[2]?.trim() ?? '';
    if (!match || !KEY.test(key) || (match[1] && match[3])) {
      return `"${term}" is not an equality-based requirement (key=value, key!=value, key or !key)`;
    }
    const [, negated, , op, value] = match;
    if (op === undefined) requirements.push({ key, op: negated ? 'notExists' : 'exists' });
    else requirements.push({ key, op: op === '!=' ? 'notEquals' : 'equals', value: value?.trim() ?? '' });
  }
  return requirements;
}

/** True when `labels` satisfy every requirement of `selector`. */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  return selector.every((r) => requirementHolds(r, labels));
}

function requirementHolds(r: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.op) {
    case 'exists':
      return has;
    case 'notExists':
      return !has;
    case 'equals':
      return has && labels[r.key] === r.value;
    case 'notEquals':
      return !has || labels[r.key] !== r.value;
  }
}
