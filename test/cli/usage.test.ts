import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { COMMANDS, helpText, OPTIONS } from '../../src/cli/commands.js';
import { MIN_NODE_VERSION, unsupportedNodeMessage } from '../../src/supported-node.js';
import { projectWithBlocks } from '../helpers/project.js';
import { cli } from './run-cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  engines: { node: string };
};

describe('help and version', () => {
  it('prints the help of one command for COMMAND --help and help COMMAND, with only its options', async () => {
    const viaFlag = await cli(['validate', '--help']);
    const viaHelp = await cli(['help', 'validate']);
    expect(viaFlag).toMatchObject({ code: 0, stderr: '' });
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaFlag.stdout).toMatch(/^k8s-executor validate — /);
    expect(viaFlag.stdout).toContain('--project DIR');
    expect(viaFlag.stdout).not.toContain('--local');
    const run = await cli(['help', 'run']);
    for (const flag of [
      '--kubeconfig FILE',
      '--context NAME',
      '--timeline FILE',
      '--keep-jobs',
      '--var KEY=VALUE',
    ])
      expect(run.stdout).toContain(flag);
    expect((await cli(['render', '-h'])).stdout).toContain('-o, --output yaml|json');
  });

  it('lists the overrides and -n, --namespace for run, render and explain only', async () => {
    for (const command of ['run', 'render', 'explain']) {
      const { stdout } = await cli(['help', command]);
      for (const flag of ['--set KEY=VALUE', '--set-block BLOCK.KEY=VALUE', '-n, --namespace NAME'])
        expect(stdout, `${command} ${flag}`).toContain(flag);
    }
    expect((await cli(['help', 'validate'])).stdout).not.toContain('--set');
  });

  it('prints the overview for --help and help, and to stderr with exit 2 for no command', async () => {
    const overview = await cli(['--help']);
    expect(overview.code).toBe(0);
    for (const command of Object.keys(COMMANDS))
      expect(overview.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect((await cli(['help'])).stdout).toBe(overview.stdout);
    const none = await cli([]);
    expect(none).toMatchObject({ code: 2, stdout: '', stderr: overview.stdout });
  });

  it('prints the version of package.json', async () => {
    expect(await cli(['--version'])).toEqual({
      code: 0,
      stdout: `k8s-executor ${pkg.version}\n`,
      stderr: '',
    });
  });

  it('documents every option of every command in docs/cli.md', () => {
    const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    for (const name of Object.keys(OPTIONS)) expect(doc, name).toContain(`--${name}`);
    for (const command of Object.keys(COMMANDS)) expect(doc, command).toContain(`k8s-executor ${command}`);
  });

  it("lists each command's options in that command's own section of docs/cli.md", () => {
    const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    /** The text under the heading `title` up to the next heading of the same or a higher level. */
    const section = (title: string) => {
      const heading = new RegExp(`^(#+) ${title}\\s*$`, 'm').exec(doc);
      if (!heading) return '';
      const rest = doc.slice(heading.index + heading[0].length);
      const end = rest.search(new RegExp(`^#{1,${heading[1]!.length}} `, 'm'));
      return end === -1 ? rest : rest.slice(0, end);
    };
    const shared = section('Selecting a Job: `render` and `explain`');
    const missing: string[] = [];
    for (const [command, spec] of Object.entries(COMMANDS)) {
      if (command === 'help') continue;
      const text = ['render', 'explain'].includes(command) ? shared + section(command) : section(command);
      for (const name of spec.options) {
        const short = (OPTIONS[name] as { short?: string }).short;
        if (!text.includes(`--${name}`) && !(short && text.includes(`-${short},`)))
          missing.push(`${command} --${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('flags as kubectl reads them', () => {
  it('-n=etl, -n etl and --namespace=etl all mean the namespace "etl"', () => {
    for (const argv of [['-n=etl'], ['-n', 'etl'], ['--namespace=etl'], ['-netl']])
      expect(parseCliArgs(['render', ...argv]).namespace, argv.join(' ')).toBe('etl');
  });

  it('preflight takes the overrides of run, and its help does not ask for --block-run-id', () => {
    expect(
      parseCliArgs(['preflight', '-n', 'etl', '--set', 'cpu=4', '--set-block', 'load.cpu=2']),
    ).toMatchObject({ namespace: 'etl', sets: ['cpu=4'], setBlocks: ['load.cpu=2'] });
    const blockLine = helpText('preflight')
      .split('\n')
      .find((l) => /^\s+--block UUID/.test(l));
    expect(blockLine).toMatch(/preflight: alone/);
  });
});

describe('usage errors', () => {
  const usage = async (argv: string[]) => {
    const { code, stderr } = await cli(argv);
    expect(code).toBe(2);
    return stderr.trim();
  };

  it('names the option, the command and its help, with a suggestion for a typo', async () => {
    expect(await usage(['run', '--foo'])).toBe(
      'error [USAGE]: unknown option --foo for "run"; see k8s-executor run --help',
    );
    expect(await usage(['run', '--pipline', 'etl'])).toBe(
      'error [USAGE]: unknown option --pipline for "run" (did you mean --pipeline?); see k8s-executor run --help',
    );
    // An option of another command is unknown here.
    expect(await usage(['validate', '--local'])).toMatch(/unknown option --local for "validate"/);
    expect(await usage(['render', '-x'])).toMatch(/unknown option -x for "render"/);
  });

  it('says what is wrong with a value', async () => {
    expect(await usage(['run', '--project'])).toMatch(/--project needs a value \(--project DIR\)/);
    expect(await usage(['run', '--project', '--local'])).toMatch(/--project needs a value/);
    expect(await usage(['run', '--local=yes'])).toMatch(/--local takes no value/);
    expect(await usage(['run', '--concurrency', '0'])).toMatch(/--concurrency expects a positive integer/);
    expect(await usage(['run', '--var', 'novalue'])).toMatch(/--var expects KEY=VALUE/);
    expect(await usage(['run', 'extra'])).toMatch(/unexpected argument "extra" for "run"/);
  });

  it('names unknown commands and commands that take no -- COMMAND', async () => {
    expect(await usage(['rnu'])).toMatch(/unknown command "rnu" \(did you mean "run"\?\)/);
    expect(await usage(['help', 'nope'])).toMatch(/no command "nope" to help with/);
    expect(await usage(['run', '--project', 'p', '--', 'echo'])).toMatch(/"run" takes no command after --/);
    expect(await usage(['--project', 'p'])).toMatch(/no command before --project/);
  });

  it('names a --project that does not exist, or is a file', async () => {
    expect(await usage(['validate', '--project', '/nonexistent/project'])).toMatch(
      /--project: the directory "\/nonexistent\/project" does not exist/,
    );
    const dir = projectWithBlocks('  - uuid: load\n');
    expect(await usage(['validate', '--project', `${dir}/metadata.yaml`])).toMatch(
      /is a file, not a project directory/,
    );
  });

  it('parses options in any order, with = or a separate value', () => {
    const args = parseCliArgs([
      '--debug',
      'run',
      '--project=p',
      '--pipeline',
      'etl',
      '--kubeconfig',
      'kc',
      '--context=staging',
      '--var',
      'a=1',
      '--var=b=2',
    ]);
    expect(args).toMatchObject({
      command: 'run',
      project: 'p',
      pipeline: 'etl',
      kubeconfig: 'kc',
      context: 'staging',
      vars: { a: '1', b: '2' },
      debug: true,
    });
  });
});

describe('the Node version check', () => {
  it('agrees with engines in package.json and says which Node it needs in one line', () => {
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_VERSION.replace(/\.0$/, '')}`);
    expect(unsupportedNodeMessage('20.20.2')).toBe('k8s-executor needs Node >= 22.19; this is v20.20.2');
    expect(unsupportedNodeMessage('v22.18.9')).toBe('k8s-executor needs Node >= 22.19; this is v22.18.9');
    for (const ok of ['22.19.0', '22.20.1', '24.0.0', '26.1.0'])
      expect(unsupportedNodeMessage(ok)).toBeUndefined();
  });
});
