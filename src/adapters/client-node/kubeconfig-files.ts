import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { K8sExecutorError } from '../../errors/base.js';
import { KubeConfig } from './client-node-values.js';

/** A loosely typed object of a parsed kubeconfig. */
export type RawObject = Record<string, unknown>;

/** One entry of `clusters`, `users` or `contexts`: `{ name, cluster | user | context }`. */
export type RawEntry = RawObject & { name?: unknown };

/** A parsed kubeconfig with the three named lists kubectl merges. */
export interface RawKubeconfig {
  clusters: RawEntry[];
  users: RawEntry[];
  contexts: RawEntry[];
  'current-context'?: string;
}

/**
 * Reads and checks one kubeconfig file, with every file it names (certificate authority, client
 * certificate and key, token file, an exec plugin given as a path) resolved against the file's folder,
 * as kubectl resolves them.
 *
 * @throws K8sExecutorError `NO_CLUSTER` when it cannot be read, is not YAML, or is not a kubeconfig
 *   client-node accepts; the message never quotes the file (it holds tokens).
 */
export function readKubeconfigFile(file: string): RawKubeconfig {
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(file, 'utf8'), { merge: true, logLevel: 'error' }) ?? {};
  } catch (e) {
    const line = (e as { linePos?: { line?: number }[] }).linePos?.[0]?.line;
    throw unreadable(file, line !== undefined ? ` (YAML error at line ${line})` : '');
  }
  if (!isRecord(parsed)) throw unreadable(file, ' (it is not a kubeconfig: a YAML mapping is expected)');
  const raw: RawKubeconfig = {
    clusters: entries(parsed.clusters),
    users: entries(parsed.users),
    contexts: entries(parsed.contexts),
    ...(typeof parsed['current-context'] === 'string'
      ? { 'current-context': parsed['current-context'] }
      : {}),
  };
  resolvePaths(raw, dirname(resolve(file)));
  checkWithClientNode(file, raw);
  return raw;
}

/**
 * Merges kubeconfig files as kubectl merges `KUBECONFIG`: the first file that defines a cluster, user
 * or context name wins it (later definitions of that name are ignored, never an error), and the first
 * file that sets `current-context` wins it.
 */
export function mergeKubeconfigs(files: readonly RawKubeconfig[]): RawKubeconfig {
  const firstWins = (lists: RawEntry[][]): RawEntry[] => {
    const seen = new Set<unknown>();
    return lists.flat().filter((entry) => {
      if (seen.has(entry.name)) return false;
      seen.add(entry.name);
      return true;
    });
  };
  const currentContext = files.map((f) => f['current-context']).find((c) => c !== undefined && c !== '');
  return {
    clusters: firstWins(files.map((f) => f.clusters)),
    users: firstWins(files.map((f) => f.users)),
    contexts: firstWins(files.map((f) => f.contexts)),
    ...(currentContext !== undefined ? { 'current-context': currentContext } : {}),
  };
}

/** The object under `key` of an entry (`cluster`, `user`, `context`), when it is one. */
export function section(entry: RawEntry, key: 'cluster' | 'user' | 'context'): RawObject | undefined {
  const value = entry[key];
  return isRecord(value) ? value : undefined;
}

/** A non-empty string value, else undefined. */
export function stringField(object: RawObject, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function isRecord(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entries(value: unknown): RawEntry[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** kubectl's `ResolveLocalPaths`: relative file references are relative to the kubeconfig's folder. */
function resolvePaths(raw: RawKubeconfig, folder: string): void {
  const resolveIn = (object: RawObject | undefined, key: string) => {
    const value = object?.[key];
    if (object && typeof value === 'string' && value !== '' && !isAbsolute(value)) {
      object[key] = resolve(folder, value);
    }
  };
  for (const entry of raw.clusters) resolveIn(section(entry, 'cluster'), 'certificate-authority');
  for (const entry of raw.users) {
    const user = section(entry, 'user');
    for (const key of ['client-certificate', 'client-key', 'tokenFile', 'token-file']) resolveIn(user, key);
    // An exec command is a path only when it names one; a bare name is looked up in PATH.
    const exec = user && isRecord(user.exec) ? user.exec : undefined;
    const command = exec?.command;
    if (typeof command === 'string' && command.includes(sep)) resolveIn(exec, 'command');
  }
}

/** Lets client-node validate the file (names and servers present), so its errors name this file. */
function checkWithClientNode(file: string, raw: RawKubeconfig): void {
  try {
    // Without token files: client-node would read them now, and they are the adapter's to read.
    const text = JSON.stringify(raw, (key, value: unknown) => (key === 'token-file' ? undefined : value));
    new KubeConfig().loadFromString(text);
  } catch (e) {
    const reason = e instanceof Error ? (e.message.split('\n')[0] ?? '').slice(0, 200) : '';
    throw unreadable(file, reason ? `: ${reason}` : '');
  }
}

function unreadable(file: string, detail: string): K8sExecutorError {
  return new K8sExecutorError(
    'NO_CLUSTER',
    `The kubeconfig file "${file}" could not be read${detail}. Check it with "kubectl config view --kubeconfig FILE".`,
  );
}
