import Mustache from 'mustache';

/**
 * The template language of the templated fields, on `mustache`: `{{ env_var('NAME') }}`,
 * `{{ variables('name') }}` and `{{ name }}`, nothing else. Mustache parses the text into tokens; every
 * name is evaluated before anything is rendered, so a missing one is an error that names it (mustache alone
 * would render it as ""), and anything that is not one of the three forms (sections, partials, filters,
 * Jinja's `{% %}`) is a syntax error. Mustache then renders the tokens from the evaluated values, without
 * HTML escaping. Single braces (`{trigger_name}` in the job name prefix) are text here; they are checked with
 * mustache's custom tags by {@link checkPrefixPlaceholders}.
 */

/** What a template can see. */
export interface TemplateScope {
  /** For `env_var('NAME')`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** For `variables('name')` and `{{ name }}`: the run variables. */
  readonly variables: Readonly<Record<string, unknown>>;
}

/** The rendered text, or why it could not be rendered. */
export type RenderResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly code: 'TEMPLATE_UNDEFINED' | 'TEMPLATE_SYNTAX'; readonly message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CALL = /^(env_var|variables)\(\s*(?:'([^']*)'|"([^"]*)")\s*\)$/;
const USAGE = "use {{ env_var('NAME') }}, {{ variables('name') }} or {{ name }}";

/** A mustache token: `[type, value, start, end, ...]`. */
type Token = [string, string, number, number, ...unknown[]];

/** Looks names up in the values evaluated beforehand (mustache would split `env_var('a.b')` on dots). */
class EvaluatedContext extends Mustache.Context {
  constructor(private readonly values: ReadonlyMap<string, string>) {
    super({});
  }
  override lookup(name: string): string | undefined {
    return this.values.get(name);
  }
}

const NO_ESCAPING = { escape: (value: unknown) => String(value) };

// One writer for all renders: it caches each template's tokens. Config texts are few, but the prefix check
// parses the rendered prefix, which can differ in every run: the cache is bounded (cleared when full).
const writer = new Mustache.Writer();
const TOKEN_CACHE_LIMIT = 1024;
const parsedTemplates = new Map<string, string>();
(writer as unknown as { templateCache: Mustache.TemplateCache }).templateCache = {
  set: (key, value) => {
    if (parsedTemplates.size >= TOKEN_CACHE_LIMIT) parsedTemplates.clear();
    parsedTemplates.set(key, value);
  },
  get: (key) => parsedTemplates.get(key),
  clear: () => parsedTemplates.clear(),
};

/**
 * True when `text` has anything for {@link renderTemplate} to evaluate. Any other text renders to itself,
 * whatever the scope: without `{{` mustache reads it as text alone, and only `{%` is refused besides.
 */
export function isTemplated(text: string): boolean {
  return text.includes('{{') || text.includes('{%');
}

/**
 * Renders `text`. Every `{{ ... }}` must be one of the three accepted forms and name something defined
 * (`null` counts as undefined); values that are not strings are inserted as JSON.
 *
 * @example
 * renderTemplate("team-{{ env_var('TEAM') }}", { env: { TEAM: 'a' }, variables: {} }); // { ok: true, value: 'team-a' }
 */
export function renderTemplate(text: string, scope: TemplateScope): RenderResult {
  if (text.includes('{%')) return syntax(`"{%" blocks are not supported: ${USAGE}.`);
  let tokens: Token[];
  try {
    tokens = writer.parse(text, ['{{', '}}']) as Token[];
  } catch {
    return syntax(unclosed(text));
  }
  const values = new Map<string, string>();
  for (const [type, name, start, end] of tokens) {
    if (type === 'text') continue;
    if (type !== 'name') {
      return syntax(`unsupported template expression "${text.slice(start, end)}": ${USAGE}.`);
    }
    const value = evaluate(name.trim(), scope);
    if (!value.ok) return value;
    values.set(name, value.value);
  }
  const rendered = writer.renderTokens(
    tokens as string[][],
    new EvaluatedContext(values),
    undefined,
    text,
    NO_ESCAPING,
  );
  return { ok: true, value: rendered };
}

/**
 * Checks the single-brace placeholders of a job name prefix, parsed with mustache's custom tags `{` `}`:
 * `{trigger_name}` is the only one (job naming replaces it); any other is an error, as Mage's `str.format`
 * would raise.
 */
export function checkPrefixPlaceholders(prefix: string): RenderResult {
  let tokens: Token[];
  try {
    tokens = writer.parse(prefix, ['{', '}']) as Token[];
  } catch {
    return syntax(
      `"{" in the job name prefix is never closed with "}": the only placeholder is {trigger_name}.`,
    );
  }
  for (const [type, , start, end] of tokens) {
    const written = prefix.slice(start, end);
    if (type === 'text' || written === '{trigger_name}') continue;
    return {
      ok: false,
      code: type === 'name' ? 'TEMPLATE_UNDEFINED' : 'TEMPLATE_SYNTAX',
      message: `unknown placeholder "${written}" in the job name prefix: the only one is {trigger_name} (written exactly so).`,
    };
  }
  return { ok: true, value: prefix };
}

function syntax(message: string): RenderResult {
  return { ok: false, code: 'TEMPLATE_SYNTAX', message };
}

/** Where the first `{{` without its `}}` opens (1-based), for the message. */
function unclosed(text: string): string {
  let from = 0;
  for (;;) {
    const open = text.indexOf('{{', from);
    if (open < 0) return `a template tag is never closed with "}}": ${USAGE}.`;
    const close = text.indexOf('}}', open + 2);
    if (close < 0) return `"{{" at character ${open + 1} is never closed with "}}".`;
    from = close + 2;
  }
}

function evaluate(expression: string, scope: TemplateScope): RenderResult {
  const call = CALL.exec(expression);
  if (call) {
    const name = call[2] ?? call[3] ?? '';
    if (call[1] === 'env_var') {
      const value = scope.env[name];
      return value === undefined
        ? {
            ok: false,
            code: 'TEMPLATE_UNDEFINED',
            message: `environment variable "${name}" is not set: set it where the executor runs.`,
          }
        : { ok: true, value };
    }
    return variable(name, scope);
  }
  if (NAME.test(expression)) return variable(expression, scope);
  return syntax(`unsupported template expression "{{ ${expression} }}": ${USAGE}.`);
}

/** The run's own variables (set from its identity in resolve-stage.ts) a template may use instead. */
const BUILT_INS = [
  'pipeline_uuid',
  'block_uuid',
  'pipeline_run_id',
  'block_run_id',
  'trigger_name',
  'attempt',
];

/** `, or use one of ...`: the built-ins this run defines (a single-job run has no block_uuid). */
function builtInsHint(name: string, scope: TemplateScope): string {
  const defined = BUILT_INS.filter(
    (b) => b !== name && scope.variables[b] !== undefined && scope.variables[b] !== null,
  );
  const why: Record<string, string> = {
    block_uuid: 'a whole-pipeline Job has no block',
    block_run_id: 'a whole-pipeline Job has no block',
    trigger_name: 'the run was given no trigger name',
  };
  const own = why[name] ? ` (${why[name]})` : '';
  return `${own}${defined.length > 0 ? `, or use one of ${defined.join(', ')}` : ''}`;
}

function variable(name: string, scope: TemplateScope): RenderResult {
  const value = Object.hasOwn(scope.variables, name) ? scope.variables[name] : undefined;
  if (value === undefined || value === null) {
    return {
      ok: false,
      code: 'TEMPLATE_UNDEFINED',
      message: `variable "${name}" is not defined: pass it as a run variable${builtInsHint(name, scope)}.`,
    };
  }
  return { ok: true, value: typeof value === 'string' ? value : JSON.stringify(value) };
}
