import { parseArgs } from 'node:util';
import { didYouMean } from '../config/did-you-mean.js';
import { K8sExecutorError } from '../errors/base.js';
import { COMMANDS, GLOBAL_OPTIONS, OPTIONS, type OptionName, type OptionSpec } from './commands.js';

/** The options every command may take, parsed and checked. */
export interface CliArgs {
  command: string;
  /** `help COMMAND`: the command to explain. */
  helpFor?: string;
  project?: string;
  pipeline?: string;
  block?: string;
  blockRunId?: string;
  pipelineRunId?: string;
  trigger?: string;
  serverPod?: string;
  vars: Record<string, string>;
  /** Each `--set KEY=VALUE`, as written. */
  sets: string[];
  /** Each `--set-block BLOCK.KEY=VALUE`, as written. */
  setBlocks: string[];
  /** `--namespace` / `-n`. */
  namespace?: string;
  output: 'yaml' | 'json' | 'table';
  local: boolean;
  concurrency?: number;
  timeline?: string;
  mode?: 'dag' | 'single-job';
  keepJobs: boolean;
  /** `--rerun-changed`: a resumed run runs again the succeeded blocks whose config changed. */
  rerunChanged: boolean;
  kubeconfig?: string;
  context?: string;
  debug: boolean;
  help: boolean;
  version: boolean;
  /** Everything after `--`. */
  rest: string[];
}

function usage(message: string, command?: string): K8sExecutorError {
  const help = command && COMMANDS[command] ? `k8s-executor ${command} --help` : 'k8s-executor --help';
  return new K8sExecutorError('USAGE', `${message}; see ${help}`);
}

/** Options by name, as parseArgs takes them. */
const PARSE_OPTIONS = Object.fromEntries(
  Object.entries(OPTIONS).map(([name, o]: [string, OptionSpec]) => [
    name,
    { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
  ]),
) as Record<OptionName, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * Parses argv (without node and the script). Each command accepts only its own options; a wrong one
 * gets one sentence naming the option and the command's help.
 * @throws K8sExecutorError `USAGE`
 */
export function parseCliArgs(argv: string[]): CliArgs {
  const dashDash = argv.indexOf('--');
  const own = dashDash === -1 ? argv : argv.slice(0, dashDash);
  const rest = dashDash === -1 ? [] : argv.slice(dashDash + 1);
  // Lenient: every option is read, unknown ones included, and checked against the command below.
  const { tokens } = parseArgs({
    args: own,
    options: PARSE_OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const positionals = tokens.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  const command = positionals[0] ?? '';
  const spec = COMMANDS[command];
  if (command !== '' && !spec) {
    const close = didYouMean(command, Object.keys(COMMANDS));
    throw usage(
      `unknown command "${command}"${close ? ` (did you mean "${close}"?)` : ''}; the commands are ${Object.keys(COMMANDS).join(', ')}`,
    );
  }
  const allowed = new Set<string>(
    spec ? [...spec.options, ...GLOBAL_OPTIONS] : [...GLOBAL_OPTIONS, 'version'],
  );
  const where = command ? ` for "${command}"` : '';
  const values: Partial<Record<OptionName, string | boolean | string[]>> = {};
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const name = token.name as OptionName;
    if (!allowed.has(name)) {
      if (command === '') {
        throw usage(
          `no command before ${token.rawName}: k8s-executor COMMAND [options], the commands being ${Object.keys(COMMANDS).join(', ')}`,
        );
      }
      const close = didYouMean(token.name, [...allowed]);
      throw usage(
        `unknown option ${token.rawName}${where}${close ? ` (did you mean --${close}?)` : ''}`,
        command,
      );
    }
    const option: OptionSpec = OPTIONS[name];
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw usage(`${token.rawName} takes no value`, command);
      values[name] = true;
      continue;
    }
    // `-n=etl` is `-n etl`, as kubectl (pflag) reads it; parseArgs keeps the `=` of a short option.
    const short = token.inlineValue && !token.rawName.startsWith('--');
    const value = short && token.value?.startsWith('=') ? token.value.slice(1) : token.value;
    // A value after a space may not look like an option; a negative number (`--concurrency -1`) does not.
    if (value === undefined || (!token.inlineValue && value.startsWith('-') && !/^-\d/.test(value))) {
      throw usage(`${token.rawName} needs a value (--${name} ${option.value})`, command);
    }
    if (option.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  const str = (name: OptionName) => values[name] as string | undefined;
  const helpFor = command === 'help' ? positionals[1] : undefined;
  if (helpFor !== undefined && !COMMANDS[helpFor]) throw usage(`no command "${helpFor}" to help with`);
  const extra = positionals[command === 'help' ? 2 : 1];
  if (extra !== undefined) throw usage(`unexpected argument "${extra}"${where}`, command);
  if (rest.length > 0 && spec && !spec.takesCommand) {
    throw usage(
      `"${command}" takes no command after --: set container.command (and args) in the block config`,
      command,
    );
  }
  const vars: Record<string, string> = {};
  for (const pair of (values.var as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usage(`--var expects KEY=VALUE, got "${pair}"`, command);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  let concurrency: number | undefined;
  if (str('concurrency') !== undefined) {
    concurrency = Number(str('concurrency'));
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw usage(`--concurrency expects a positive integer, got "${str('concurrency')}"`, command);
  }
  const mode = str('mode');
  if (mode !== undefined && mode !== 'dag' && mode !== 'single-job') {
    throw usage(`--mode expects dag or single-job, got "${mode}"`, command);
  }
  const picked = (name: OptionName, key: keyof CliArgs) =>
    str(name) !== undefined ? { [key]: str(name) } : {};
  return {
    command,
    ...(helpFor !== undefined ? { helpFor } : {}),
    ...picked('project', 'project'),
    ...picked('pipeline', 'pipeline'),
    ...picked('block', 'block'),
    ...picked('block-run-id', 'blockRunId'),
    ...picked('pipeline-run-id', 'pipelineRunId'),
    ...picked('trigger', 'trigger'),
    ...picked('server-pod', 'serverPod'),
    ...picked('timeline', 'timeline'),
    ...picked('kubeconfig', 'kubeconfig'),
    ...picked('context', 'context'),
    ...picked('namespace', 'namespace'),
    vars,
    sets: (values.set as string[] | undefined) ?? [],
    setBlocks: (values['set-block'] as string[] | undefined) ?? [],
    output: outputFor(command, str('output')),
    local: values.local === true,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(mode !== undefined ? { mode } : {}),
    keepJobs: values['keep-jobs'] === true,
    rerunChanged: values['rerun-changed'] === true,
    debug: values.debug === true,
    help: values.help === true,
    version: values.version === true,
    rest,
  };
}

function outputFor(command: string, given: string | undefined): CliArgs['output'] {
  const allowed = COMMANDS[command]?.outputs;
  if (given === undefined) return allowed?.[0] ?? 'yaml';
  if (!allowed) throw usage(`-o is for render and explain, not for "${command}"`, command);
  if (!allowed.includes(given as CliArgs['output'])) {
    throw usage(
      `"${command}" prints ${allowed.join(' or ')} (-o ${allowed.join('|')}), not "${given}"`,
      command,
    );
  }
  return given as CliArgs['output'];
}

/** Returns the value or throws a usage error naming the missing flag. */
export function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value === '') throw usage(`"${command}" needs ${flag}`, command);
  return value;
}

/** A usage error (exit code 2): `message` (no final period), then where the command's help is. */
export { usage as usageError };
