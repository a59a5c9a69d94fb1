/** One option of the CLI: how node:util parseArgs reads it and the line `--help` prints for it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Repeatable (`--var a=1 --var b=2`). */
  multiple?: boolean;
  short?: string;
  /** The placeholder of its value in help texts (`DIR`, `UUID`...). */
  value?: string;
  /** One line for `--help`. */
  help: string;
}

/** Every option any command takes, by long name. */
export const OPTIONS = {
  project: {
    type: 'string',
    value: 'DIR',
    help: 'the Mage project directory (holds metadata.yaml and pipelines/)',
  },
  pipeline: { type: 'string', value: 'UUID', help: 'the pipeline (pipelines/<UUID>/metadata.yaml)' },
  block: {
    type: 'string',
    value: 'UUID',
    help: "one block's Job (render/explain: with --block-run-id; preflight: alone)",
  },
  'block-run-id': { type: 'string', value: 'ID', help: 'the block run id in the Job name (…-block-<ID>)' },
  'pipeline-run-id': {
    type: 'string',
    value: 'ID',
    help: 'the pipeline run id (render/explain: the whole-pipeline Job …-pipeline-<ID>)',
  },
  trigger: { type: 'string', value: 'NAME', help: "the trigger's name ({trigger_name} in job_name_prefix)" },
  'server-pod': {
    type: 'string',
    value: 'FILE',
    help: 'a pod (kubectl get pod -o yaml) to inherit from, as the Mage server pod',
  },
  var: {
    type: 'string',
    multiple: true,
    value: 'KEY=VALUE',
    help: 'a run variable for templates (repeatable)',
  },
  set: {
    type: 'string',
    multiple: true,
    value: 'KEY=VALUE',
    help: 'override a config key for every Job, as YAML (--set cpu=4); above block config, below an enforced policy (repeatable)',
  },
  'set-block': {
    type: 'string',
    multiple: true,
    value: 'BLOCK.KEY=VALUE',
    help: "override a config key of one block's Job (repeatable; wins over --set)",
  },
  namespace: {
    type: 'string',
    short: 'n',
    value: 'NAME',
    help: "the namespace of the Jobs (as kubectl's): --set namespace=NAME, below an enforced policy",
  },
  output: { type: 'string', short: 'o', value: 'FORMAT', help: 'the output format' },
  local: { type: 'boolean', help: "the embedded local backend: each Job's command as a child process" },
  concurrency: { type: 'string', value: 'N', help: 'blocks running at once (default 4)' },
  timeline: { type: 'string', value: 'FILE', help: 'write an HTML timeline of the run to FILE' },
  mode: {
    type: 'string',
    value: 'MODE',
    help: 'dag: one Job per block (default); single-job: the pipeline as one Job',
  },
  'keep-jobs': { type: 'boolean', help: 'keep the Jobs after the run (for debugging)' },
  'rerun-changed': {
    type: 'boolean',
    help: 'resuming a run: run again the blocks that succeeded in it and whose config changed since',
  },
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    help: 'the kubeconfig file (default KUBECONFIG, ~/.kube/config)',
  },
  context: { type: 'string', value: 'NAME', help: 'the kubeconfig context (default the current context)' },
  debug: { type: 'boolean', help: 'print stack traces' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
  version: { type: 'boolean', help: 'the version of k8s-executor' },
} as const satisfies Record<string, OptionSpec>;

/** A long option name. */
export type OptionName = keyof typeof OPTIONS;

/** What `--help` says about one command, and the options it accepts. */
export interface CommandSpec {
  summary: string;
  usage: string[];
  options: readonly OptionName[];
  /** The formats of `-o`, the first being the default. */
  outputs?: readonly ('yaml' | 'json' | 'table')[];
  /** Whether `-- COMMAND...` is accepted. */
  takesCommand?: boolean;
  /** Lines after the options. */
  notes: string[];
  exitCodes: string;
}

const SELECTORS: readonly OptionName[] = [
  'project',
  'pipeline',
  'block',
  'block-run-id',
  'pipeline-run-id',
  'trigger',
  'server-pod',
  'var',
  'set',
  'set-block',
  'namespace',
  'output',
];

/** The commands. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  render: {
    summary: 'print the Job a block (or whole-pipeline) run would create; needs no cluster',
    usage: [
      'render --project DIR --pipeline UUID --block UUID --block-run-id ID [options] [-- COMMAND...]',
      'render --project DIR --pipeline UUID --pipeline-run-id ID [options] [-- COMMAND...]',
    ],
    options: SELECTORS,
    outputs: ['yaml', 'json'],
    takesCommand: true,
    notes: [
      "-- COMMAND...   the container's command, instead of container.command of the config",
      'Overrides: --set cpu=4 --set memory=8192 --set container.resources.limits.memory=8Gi;',
      'a map key with dots goes in brackets: --set \'labels["app.kubernetes.io/part-of"]=etl\'.',
    ],
    exitCodes: '0 printed, 2 usage or config error',
  },
  explain: {
    summary: 'print each resolved field with the layer (and file:line) that set it; needs no cluster',
    usage: ['explain (the same selectors as render) [-o table|json]'],
    options: SELECTORS,
    outputs: ['table', 'json'],
    takesCommand: true,
    notes: ['The table fits the terminal: long values wrap, then long sources; neither is cut.'],
    exitCodes: '0 printed, 2 usage or config error',
  },
  validate: {
    summary: 'report every config problem of the project with file:line',
    usage: ['validate --project DIR [--pipeline UUID] [--mode dag|single-job] [--server-pod FILE]'],
    options: ['project', 'pipeline', 'mode', 'server-pod'],
    notes: [
      'Without --pipeline, every pipeline under pipelines/ is checked.',
      'It checks what run does: one Job per k8s block (dag), or the whole pipeline as one Job with',
      '--mode single-job or when the pipeline says run_pipeline_in_one_process: true.',
    ],
    exitCodes: '0 no problem, 1 problems found, 2 usage error',
  },
  run: {
    summary: 'run a pipeline with live progress, on the current kubeconfig cluster or --local',
    usage: ['run --project DIR --pipeline UUID [--local] [options]'],
    options: [
      'project',
      'pipeline',
      'local',
      'concurrency',
      'mode',
      'pipeline-run-id',
      'trigger',
      'var',
      'set',
      'set-block',
      'namespace',
      'timeline',
      'keep-jobs',
      'rerun-changed',
      'kubeconfig',
      'context',
    ],
    notes: [
      "Each block's command comes from its resolved config (container.command/args).",
      '--set and --set-block override the config of the Jobs (--set-block in dag mode only).',
      'Running the same --pipeline-run-id again resumes it: finished blocks are kept, running Jobs adopted.',
      'A block whose config changed since its earlier attempt is reported (each field, where it is set);',
      'a succeeded one is run again only with --rerun-changed (dag mode only).',
      'Ctrl-C, SIGTERM or SIGHUP, or a closed stdout, deletes the Jobs this run created (exit 130, 143, 129, 141).',
    ],
    exitCodes: '0 succeeded, 1 a block failed, 2 usage or config error, 129/130/141/143 cancelled',
  },
  preflight: {
    summary: 'check every Job of a pipeline against the live cluster, creating nothing',
    usage: ['preflight --project DIR --pipeline UUID [--block UUID] [-o table|json] [options]'],
    options: [
      'project',
      'pipeline',
      'block',
      'mode',
      'trigger',
      'var',
      'set',
      'set-block',
      'namespace',
      'server-pod',
      'output',
      'kubeconfig',
      'context',
    ],
    outputs: ['table', 'json'],
    notes: [
      'Checks each Job as run would build it: a server-side dry run, RBAC, the namespace, ServiceAccount,',
      'Secrets, ConfigMaps, claims and image pull Secrets it refers to, LimitRanges, ResourceQuotas, and',
      'whether any node can run its pod. --block UUID checks one block only (no --block-run-id needed).',
      'What it may not read is "not-checked", not a failure; no node that fits today is a warning.',
    ],
    exitCodes: '0 no block would fail, 1 a block would fail, 2 usage or config error',
  },
  help: {
    summary: 'help on a command',
    usage: ['help [COMMAND]'],
    options: [],
    notes: [],
    exitCodes: '0',
  },
};

/** The options every command takes. */
export const GLOBAL_OPTIONS: readonly OptionName[] = ['debug', 'help'];

const DOCS = 'Docs: docs/cli.md (every command and flag), docs/configuration.md, docs/errors.md';

/** The help of one command, or the overview without one. */
export function helpText(command?: string): string {
  const spec = command === undefined ? undefined : COMMANDS[command];
  if (!spec) return overview();
  const options = [...spec.options, ...GLOBAL_OPTIONS].map((name) => {
    const option: OptionSpec = OPTIONS[name];
    const value = option.value
      ? ` ${name === 'output' && spec.outputs ? spec.outputs.join('|') : option.value}`
      : '';
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${value}`;
    const help =
      name === 'output' && spec.outputs ? `${option.help} (default ${spec.outputs[0]})` : option.help;
    return [flag, help] as const;
  });
  const width = Math.max(...options.map(([flag]) => flag.length)) + 2;
  return [
    `k8s-executor ${command} — ${spec.summary}`,
    '',
    'Usage:',
    ...spec.usage.map((u) => `  k8s-executor ${u}`),
    '',
    'Options:',
    ...options.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    ...(spec.notes.length > 0 ? ['', ...spec.notes] : []),
    '',
    `Exit codes: ${spec.exitCodes}.`,
    DOCS,
  ].join('\n');
}

function overview(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    'k8s-executor — run pipeline blocks as Kubernetes Jobs',
    '',
    'Usage: k8s-executor COMMAND [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n]!.summary}`),
    '',
    'Options:',
    '  -h, --help     help (k8s-executor COMMAND --help, or k8s-executor help COMMAND)',
    '      --version  the version of k8s-executor',
    '      --debug    print stack traces',
    '',
    'Exit codes: 0 ok, 1 run or validation failed, 2 usage or config error, 129/130/141/143 cancelled.',
    DOCS,
  ].join('\n');
}
