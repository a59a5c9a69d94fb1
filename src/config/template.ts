/**
 * The template language of the templated fields: `{{ env_var('NAME') }}`, `{{ variables('name') }}` and
 * `{{ name }}`, nothing else. A small parser rather than mustache: mustache cannot call `env_var(...)`,
 * renders a missing name as "" and HTML-escapes by default; here a missing name is an error that names
 * it, any other expression is a syntax error, and values are inserted as they are. Single braces
 * (`{trigger_name}` in the job name prefix) are left alone.
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

/**
 * Renders `text`. Every `{{ ... }}` must be one of the three accepted forms and name something defined
 * (`null` counts as undefined); values that are not strings are inserted as JSON.
 *
 * @example
 * renderTemplate("team-{{ env_var('TEAM') }}", { env: { TEAM: 'a' }, variables: {} }); // { ok: true, value: 'team-a' }
 */
export function renderTemplate(text: string, scope: TemplateScope): RenderResult {
  let out = '';
  let rest = text;
  for (;;) {
    const open = rest.search(/\{\{|\{%/);
    if (open < 0) return { ok: true, value: out + rest };
    if (rest.startsWith('{%', open)) {
      return syntax(`"{%" blocks are not supported: ${USAGE}.`);
    }
    const close = rest.indexOf('}}', open + 2);
    if (close < 0)
      return syntax(`"{{" at character ${text.length - rest.length + open + 1} is never closed with "}}".`);
    const expression = rest.slice(open + 2, close).trim();
    const value = evaluate(expression, scope);
    if (!value.ok) return value;
    out += rest.slice(0, open) + value.value;
    rest = rest.slice(close + 2);
  }
}

function syntax(message: string): RenderResult {
  return { ok: false, code: 'TEMPLATE_SYNTAX', message };
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

function variable(name: string, scope: TemplateScope): RenderResult {
  const value = Object.hasOwn(scope.variables, name) ? scope.variables[name] : undefined;
  if (value === undefined || value === null) {
    return {
      ok: false,
      code: 'TEMPLATE_UNDEFINED',
      message: `variable "${name}" is not defined: pass it as a run variable, or use one of pipeline_uuid, block_uuid, pipeline_run_id, block_run_id, trigger_name, attempt.`,
    };
  }
  return { ok: true, value: typeof value === 'string' ? value : JSON.stringify(value) };
}
