import { parseArgs } from 'node:util';
import { K8sExecutorError } from '../errors/base.js';

/** The options every command may take, parsed and checked. */
export interface CliArgs {
  command: string;
  project?: string;
  pipeline?: string;
  block?: string;
  blockRunId?: string;
  pipelineRunId?: string;
  trigger?: string;
  serverPod?: string;
  vars: Record<string, string>;
  output: 'yaml' | 'json' | 'table';
  local: boolean;
  concurrency?: number;
  timeline?: string;
  mode?: 'dag' | 'single-job';
  keepJobs: boolean;
  debug: boolean;
  help: boolean;
  /** Everything after `--`. */
  rest: string[];
}

const OPTIONS = {
  project: { type: 'string' },
  pipeline: { type: 'string' },
  block: { type: 'string' },
  'block-run-id': { type: 'string' },
  'pipeline-run-id': { type: 'string' },
  trigger: { type: 'string' },
  'server-pod': { type: 'string' },
  var: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  local: { type: 'boolean' },
  concurrency: { type: 'string' },
  timeline: { type: 'string' },
  mode: { type: 'string' },
  'keep-jobs': { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(message: string): K8sExecutorError {
  return new K8sExecutorError('USAGE', message, {
    hint: 'Run `k8s-executor --help` for the commands and their options.',
  });
}

/** Parses argv (without node and the script). @throws K8sExecutorError `USAGE` */
export function parseCliArgs(argv: string[]): CliArgs {
  const dashDash = argv.indexOf('--');
  const own = dashDash === -1 ? argv : argv.slice(0, dashDash);
  const rest = dashDash === -1 ? [] : argv.slice(dashDash + 1);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: own, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw usage(`Unexpected argument "${positionals[1]}".`);
  const vars: Record<string, string> = {};
  for (const pair of values.var ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usage(`--var expects key=value, got "${pair}".`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const output = outputFor(positionals[0] ?? '', values.output);
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw usage(`--concurrency expects a positive integer, got "${values.concurrency}".`);
  }
  if (values.mode !== undefined && values.mode !== 'dag' && values.mode !== 'single-job') {
    throw usage(`--mode expects dag or single-job, got "${values.mode}".`);
  }
  return {
    command: positionals[0] ?? '',
    ...(values.project !== undefined ? { project: values.project } : {}),
    ...(values.pipeline !== undefined ? { pipeline: values.pipeline } : {}),
    ...(values.block !== undefined ? { block: values.block } : {}),
    ...(values['block-run-id'] !== undefined ? { blockRunId: values['block-run-id'] } : {}),
    ...(values['pipeline-run-id'] !== undefined ? { pipelineRunId: values['pipeline-run-id'] } : {}),
    ...(values.trigger !== undefined ? { trigger: values.trigger } : {}),
    ...(values['server-pod'] !== undefined ? { serverPod: values['server-pod'] } : {}),
    vars,
    output,
    local: values.local ?? false,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(values.timeline !== undefined ? { timeline: values.timeline } : {}),
    ...(values.mode !== undefined ? { mode: values.mode as 'dag' | 'single-job' } : {}),
    keepJobs: values['keep-jobs'] ?? false,
    debug: values.debug ?? false,
    help: values.help ?? false,
    rest,
  };
}

/** The formats each command prints, the first being its default. */
const OUTPUTS: Readonly<Record<string, readonly CliArgs['output'][]>> = {
  render: ['yaml', 'json'],
  explain: ['table', 'json'],
};

function outputFor(command: string, given: string | undefined): CliArgs['output'] {
  const allowed = OUTPUTS[command];
  if (given === undefined) return allowed?.[0] ?? 'yaml';
  if (!allowed) throw usage(`-o is for render and explain, not for "${command}".`);
  if (!allowed.includes(given as CliArgs['output'])) {
    throw usage(`\`${command}\` prints ${allowed.join(' or ')} (-o ${allowed.join('|')}), not "${given}".`);
  }
  return given as CliArgs['output'];
}

/** Returns the value or throws a usage error naming the missing flag. */
export function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value === '') throw usage(`\`${command}\` needs ${flag}.`);
  return value;
}

/** Usage errors for the commands. */
export { usage as usageError };

/** The help text. */
export const HELP = `k8s-executor — run pipeline blocks as Kubernetes Jobs

Usage:
  k8s-executor render   --project DIR --pipeline UUID (--block UUID --block-run-id ID | --pipeline-run-id ID)
                        [--trigger NAME] [--server-pod FILE] [--var k=v]... [-o yaml|json] [-- COMMAND...]
  k8s-executor explain  (same selectors as render) [-o table|json]
  k8s-executor validate --project DIR
  k8s-executor run      --project DIR --pipeline UUID [--local] [--concurrency N] [--timeline FILE]
                        [--mode dag|single-job] [--pipeline-run-id ID] [--trigger NAME] [--var k=v]...
                        [--keep-jobs]

  render    prints the Job a block (or a whole-pipeline) run would create; needs no cluster.
  explain   prints each resolved field with the layer (and file:line) that set it.
  validate  reports every config problem of the project with file:line.
  run       runs a pipeline with live progress, against the current kubeconfig's cluster,
            or with --local on the embedded backend (each Job's command as a local process).

Options:
  --debug   print stack traces
  -h, --help

Exit codes: 0 ok, 1 run or validation failed, 2 usage or config error.
Docs: docs/configuration.md, docs/runtime.md, docs/pipelines.md, docs/errors.md`;
