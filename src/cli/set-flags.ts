import { parseYamlDocument } from '../adapters/fs/parse-yaml-document.js';
import type { ConfigOverride } from '../config/index.js';
import { squashKey } from '../config/key-case.js';
import { parseOverrideKey } from '../config/overrides.js';
import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import { type CliArgs, usageError } from './args.js';

/**
 * `--namespace NAME`, then each `--set KEY=VALUE`, as the run's overrides (a later flag wins for the same
 * key). Each value is read as YAML, exactly as in the project's files (`3` is a number, `true` a boolean,
 * `[a, b]` a list, `!remove` removes); each override's source is its flag, so a problem names it.
 * @throws K8sExecutorError `USAGE` for a flag without `=` or without a value
 * @throws ConfigError (`YAML_SYNTAX`) for a value that does not parse
 */
export function runOverrides(args: CliArgs): ConfigOverride[] {
  const namespace =
    args.namespace !== undefined
      ? [{ key: 'namespace', value: args.namespace, source: `--namespace ${args.namespace}` }]
      : [];
  return [...namespace, ...args.sets.map((text) => override('--set', text, args.command))];
}

/**
 * Each `--set-block BLOCK.KEY=VALUE` as overrides by block uuid. BLOCK is the longest of `blocks` that the
 * flag starts with (followed by a dot), so a uuid may hold dots itself.
 * @throws K8sExecutorError `USAGE` for a block the pipeline does not have, or a malformed flag
 */
export function blockOverrides(args: CliArgs, blocks: readonly string[]): Record<string, ConfigOverride[]> {
  const out: Record<string, ConfigOverride[]> = {};
  const byLength = [...blocks].sort((a, b) => b.length - a.length);
  for (const text of args.setBlocks) {
    const block = byLength.find((uuid) => text.startsWith(`${uuid}.`));
    if (block === undefined) {
      const named = text.slice(0, Math.max(0, text.indexOf('.')));
      throw usageError(
        `--set-block ${text}: ${named ? `no block "${named}" in the pipeline` : 'expected BLOCK.KEY=VALUE'}; the blocks are ${blocks.join(', ') || 'none'}`,
        args.command,
      );
    }
    const parsed = override('--set-block', text.slice(block.length + 1), args.command, `${block}.`);
    out[block] = [...(out[block] ?? []), parsed];
  }
  return out;
}

/** One `KEY=VALUE` flag as an override; `prefix` is what the flag had before KEY (`load.`). */
function override(flag: string, text: string, command: string, prefix = ''): ConfigOverride {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw usageError(`${flag} expects ${prefix ? 'BLOCK.' : ''}KEY=VALUE, got "${prefix}${text}"`, command);
  const key = text.slice(0, eq);
  const valueText = text.slice(eq + 1);
  if (valueText.trim() === '') {
    throw usageError(
      `${flag} ${prefix}${key}=: no value (an empty value means "not set"); to remove what a lower layer set, write ${flag} '${prefix}${key}=!remove'`,
      command,
    );
  }
  const { doc, issues } = parseYamlDocument(valueText, `${flag} ${prefix}${key}`);
  // env values may be secrets: such a flag is named without its value wherever it is shown.
  const secret = setsEnv(key) || (issues.length > 0 ? mayHoldEnv(valueText) : holdsEnv(doc.value));
  const source = `${flag} ${prefix}${key}=${secret ? '***' : valueText}`;
  if (issues.length > 0) {
    throw new ConfigError(
      issues.map(
        (issue): ConfigIssue => ({
          ...issue,
          message: secret ? withoutQuotes(issue.message) : issue.message,
          path: key,
          location: { file: source },
        }),
      ),
    );
  }
  return { key, value: doc.value, source };
}

/** True when the key's path goes through an `env` list (`env`, `container.env`, `container_config.env`). */
function setsEnv(key: string): boolean {
  const segments = parseOverrideKey(key);
  return typeof segments !== 'string' && segments.some((segment) => squashKey(segment) === 'env');
}

/**
 * True when a parsed value holds an `env` key at any depth, in any spelling (`env`, `Env`, `e_n_v`): the
 * value of `--set container={env: [...]}` or `--set container_config={env: [...]}`. `envFrom` only names
 * Secrets and ConfigMaps, so it does not count.
 */
function holdsEnv(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (Array.isArray(next)) pending.push(...next);
    else if (next !== null && typeof next === 'object') {
      for (const [k, v] of Object.entries(next)) {
        if (squashKey(k) === 'env') return true;
        pending.push(v);
      }
    }
  }
  return false;
}

/** For a value that does not parse: whether it may hold an `env` key (so it is not shown, to be safe). */
function mayHoldEnv(text: string): boolean {
  return /e_*n_*v/i.test(text);
}

/** A YAML message without the parts of the value it quotes (a hint may quote a line of it). */
function withoutQuotes(message: string): string {
  return message.replace(/"[^"]*"/g, '"…"');
}
