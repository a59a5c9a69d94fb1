/**
 * Regression (review finding `shorthand-messages-name-the-value`). Before: a Metaflow shorthand with a value of the right type but out of range gets a
 * self-contradicting message that never names the value: `cpu: -1` → "expected a number of CPUs or a
 * quantity such as 500m, got a number"; `memory: -5` → "expected a size in MB (a number) or a quantity
 * string, got a number"; `gpu: 1.5` → "expected a whole number of GPUs, got a number"; `cpu: ""` →
 * "..., got a string". Expected: the message says what is wrong with the value written (negative, not whole,
 * empty) and quotes it, as the quantity messages do (`"lots" is not a Kubernetes quantity`).
 * Now it does (src/config/shorthands.ts).
 */
import { expect, it } from 'vitest';
import { cli } from '../cli/run-cli.js';
import { projectFiles, writeProject } from '../helpers/project.js';

it.each([
  ['cpu', '-1', '-1'],
  ['memory', '-5', '-5'],
  ['disk', '-10', '-10'],
  ['gpu', '1.5', '1.5'],
  ['cpu', '""', 'empty'],
])('%s: %s names the value it refuses', async (key, value, shown) => {
  const dir = writeProject(projectFiles(`  - uuid: a\n    executor_config:\n      ${key}: ${value}\n`));
  const result = await cli(['validate', '--project', dir]);
  expect(result.code).toBe(1);
  const line = result.stderr.split('\n').find((l) => l.includes(`executor_config.${key}`)) ?? '';
  expect(line).not.toMatch(/got a (number|string)\.$|got a (number|string)\. \[/);
  expect(line).toContain(shown);
});

it.each([
  [
    'cpu',
    '-1',
    'executor_config.cpu: -1 is negative: expected a number of CPUs (0.5, 2) or a quantity such as 500m. [INVALID_VALUE]',
  ],
  [
    'cpu',
    '""',
    'executor_config.cpu: "" is empty: expected a number of CPUs (0.5, 2) or a quantity such as 500m. [INVALID_VALUE]',
  ],
  [
    'cpu',
    'true',
    'executor_config.cpu: expected a number of CPUs (0.5, 2) or a quantity such as 500m, got true. [INVALID_TYPE]',
  ],
  [
    'memory',
    '-5',
    'executor_config.memory: -5 is negative: expected a size in MB (a number such as 4096) or a quantity such as 2Gi. [INVALID_VALUE]',
  ],
  [
    'shared_memory',
    '[1]',
    'executor_config.shared_memory: expected a size in MiB (a number such as 4096) or a quantity such as 2Gi, got a list. [INVALID_TYPE]',
  ],
  [
    'gpu',
    '1.5',
    'executor_config.gpu: 1.5 is not a whole number: expected a whole number of GPUs (0, 1, 2, ...). [INVALID_VALUE]',
  ],
  [
    'gpu',
    '-2',
    'executor_config.gpu: -2 is negative: expected a whole number of GPUs (0, 1, 2, ...). [INVALID_VALUE]',
  ],
  [
    'gpu',
    'two',
    'executor_config.gpu: expected a whole number of GPUs (0, 1, 2, ...), got "two". [INVALID_TYPE]',
  ],
  [
    'port',
    '70000',
    'executor_config.port: expected a port number between 1 and 65535, got 70000. [INVALID_VALUE]',
  ],
])('%s: %s, the whole message', async (key, value, message) => {
  const dir = writeProject(projectFiles(`  - uuid: a\n    executor_config:\n      ${key}: ${value}\n`));
  const result = await cli(['validate', '--project', dir]);
  expect(result.stderr).toContain(message);
});
