import { spawn } from 'node:child_process';
import type { Clock } from '../../ports/clock.js';

/** A kubeconfig user's `exec` section (client.authentication.k8s.io ExecConfig), as written. */
export interface ExecConfig {
  /** The plugin, resolved against the kubeconfig's folder when it names a relative path. */
  command: string;
  /** Its arguments. */
  args?: string[];
  /** Variables added to the environment it runs in. */
  env?: { name: string; value: string }[];
  /** The ExecCredential version it speaks. */
  apiVersion?: string;
}

/** What a plugin prints on stdout (`client.authentication.k8s.io` `ExecCredential`), the parts used. */
export interface ExecCredentialStatus {
  /** A bearer token. */
  token?: string;
  /** A PEM client certificate, with {@link clientKeyData}. */
  clientCertificateData?: string;
  /** The PEM key of {@link clientCertificateData}. */
  clientKeyData?: string;
  /** RFC 3339 time after which the credential is no longer valid; none: valid until a 401. */
  expirationTimestamp?: string;
}

/** How one plugin run is bounded. */
export interface ExecPluginRunOptions {
  /** The plugin is killed when it has not exited after this long. */
  timeoutMs: number;
  /** Where the bound's time comes from. */
  clock: Clock;
}

/**
 * Why a plugin run gave no credential: it could not `start`, its `exit` code was not 0, it ran past its
 * `timeout`, or its `output` held no credential. The message is a clause naming what went wrong.
 */
export class ExecPluginFailure extends Error {
  constructor(
    readonly kind: 'start' | 'exit' | 'timeout' | 'output',
    message: string,
  ) {
    super(message);
    this.name = 'ExecPluginFailure';
  }
}

/** A plugin gets two seconds between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** No credential is larger than this; a plugin printing more is cut off. */
const MAX_OUTPUT_CHARS = 1 << 20;

/**
 * Runs an exec credential plugin once, as client-go does for a non-interactive caller: stdin is
 * `/dev/null` (a plugin that prompts reads end-of-file at once instead of waiting for an answer nobody
 * gives), `KUBERNETES_EXEC_INFO` says `interactive: false`, and a run that has not exited after
 * `timeoutMs` is killed (SIGTERM, then SIGKILL). Only the plugin process itself is killed: a child it
 * started and left running keeps running.
 *
 * @throws ExecPluginFailure when the plugin cannot start, exits non-zero (with the first line of its
 *   stderr), outlives `timeoutMs`, or prints no valid credential.
 */
export function runExecPlugin(
  exec: ExecConfig,
  options: ExecPluginRunOptions,
): Promise<ExecCredentialStatus> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const { name, value } of exec.env ?? []) env[name] = value;
  if (exec.apiVersion) {
    env.KUBERNETES_EXEC_INFO = JSON.stringify({
      apiVersion: exec.apiVersion,
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command, exec.args ?? [], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const bound = new AbortController();
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      bound.abort();
      outcome();
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT_CHARS) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT_CHARS) stderr += chunk;
    });
    child.on('error', (e) => finish(() => reject(new ExecPluginFailure('start', reasonOf(e)))));
    child.on('close', (code, signal) =>
      finish(() => {
        if (code !== 0) {
          const said = firstLine(stderr);
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          reject(new ExecPluginFailure('exit', said || `it ${how} and printed nothing on stderr`));
          return;
        }
        try {
          resolve(credentialOf(stdout, stderr));
        } catch (e) {
          reject(e);
        }
      }),
    );
    options.clock.sleep(options.timeoutMs, bound.signal).then(
      () =>
        finish(() => {
          child.kill('SIGTERM');
          // The stdio pipes may be held open by a child of the plugin: stop reading them.
          child.stdout.destroy();
          child.stderr.destroy();
          const hard = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), KILL_GRACE_MS);
          hard.unref();
          const said = firstLine(stderr);
          reject(
            new ExecPluginFailure(
              'timeout',
              `it had not exited after ${formatMs(options.timeoutMs)} and was stopped` +
                (said ? ` (its last words on stderr: "${said}")` : ''),
            ),
          );
        }),
      () => undefined,
    );
  });
}

/** The `status` of the ExecCredential printed on stdout, checked as client-go checks it. */
function credentialOf(stdout: string, stderr: string): ExecCredentialStatus {
  const hint = firstLine(stderr) ? `; on stderr it said: "${firstLine(stderr)}"` : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new ExecPluginFailure('output', `it printed no ExecCredential JSON on stdout${hint}`);
  }
  const status = (parsed as { status?: unknown } | null)?.status;
  if (typeof status !== 'object' || status === null) {
    throw new ExecPluginFailure('output', `its ExecCredential has no status${hint}`);
  }
  const { token, clientCertificateData, clientKeyData, expirationTimestamp } = status as Record<
    string,
    unknown
  >;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const result: ExecCredentialStatus = {
    ...(text(token) ? { token: text(token) } : {}),
    ...(text(clientCertificateData) ? { clientCertificateData: text(clientCertificateData) } : {}),
    ...(text(clientKeyData) ? { clientKeyData: text(clientKeyData) } : {}),
    ...(text(expirationTimestamp) ? { expirationTimestamp: text(expirationTimestamp) } : {}),
  };
  if (!result.token && !(result.clientCertificateData && result.clientKeyData)) {
    throw new ExecPluginFailure(
      'output',
      `its ExecCredential has neither status.token nor status.clientCertificateData and clientKeyData${hint}`,
    );
  }
  return result;
}

/** The first non-blank line, at most 200 characters (plugins print long usage texts). */
export function firstLine(text: string): string {
  return (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 200);
}

/** An error's first line, with its code (`ENOENT: spawn ./x ENOENT` reads better than nothing). */
function reasonOf(e: NodeJS.ErrnoException): string {
  const first = firstLine(e.message);
  return e.code && !first.includes(e.code) ? `${e.code}: ${first}` : first || 'no message';
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
