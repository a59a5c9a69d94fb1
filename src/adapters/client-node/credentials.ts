import { readFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import type { KubeConfig, RequestContext, User } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.js';
import { type ExecConfig, ExecPluginFailure, firstLine, runExecPlugin } from './exec-plugin.js';

export type { ExecConfig } from './exec-plugin.js';

/** How one kubeconfig user's credential is obtained where the adapter refreshes it (not client-node). */
export type RefreshedAuth =
  /** A bearer token read from a file (`tokenFile`/`token-file`); `fallbackToken` is the user's `token`, used while the file cannot be read. */
  | { kind: 'tokenFile'; path: string; fallbackToken?: string }
  /** An exec credential plugin. */
  | { kind: 'exec'; exec: ExecConfig };

/** A token file is read again when its last read is older than this (client-go's period). */
export const TOKEN_FILE_MAX_AGE_MS = 60_000;

/**
 * An exec credential with an `expirationTimestamp` is refreshed this long before it expires (or halfway
 * through its lifetime, when it lives less than twice as long), so no request leaves with a token about
 * to expire.
 */
export const EXEC_REFRESH_AHEAD_MS = 30_000;

/**
 * An exec plugin run still going after this long is killed (the default of `execTimeoutMs`): a plugin
 * that waits for a login nobody gives must not hold every request forever.
 */
export const EXEC_PLUGIN_TIMEOUT_MS = 30_000;

/** How credentials are refreshed. */
export interface RefreshOptions {
  /** Token file ages, exec credential expiry and the exec plugin's time bound. */
  clock: Clock;
  /** An exec plugin run is killed after this long. @default EXEC_PLUGIN_TIMEOUT_MS */
  execTimeoutMs?: number;
}

/** A credential that cannot be obtained (unreadable token file, failed exec plugin). Classified as `API_UNAUTHORIZED`. */
export class CredentialUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialUnavailableError';
  }
}

/** What a credential contributes to a request. */
interface Applied {
  token?: string;
  cert?: string;
  key?: string;
}

/**
 * The credentials client-node does not refresh, plugged into client-node's own authentication through
 * `KubeConfig.addAuthenticator` (so headers, TLS options and the rest are still applied by client-node):
 *
 * - token files are read again every {@link TOKEN_FILE_MAX_AGE_MS} and at once after a 401; while a file
 *   cannot be read the last token read (else the user's static `token`) is used, as client-go does;
 * - exec plugins run once per credential (concurrent requests wait for the same run), again
 *   {@link EXEC_REFRESH_AHEAD_MS} before the credential's `expirationTimestamp`, and, for a credential
 *   without one, only after a 401. A run is bounded (`execTimeoutMs`, then killed; the next request
 *   starts a new one) and a request waits for it only within its own time limit and signal (see
 *   {@link authenticate}).
 *
 * Time comes from the injected clock.
 */
export class RefreshingAuthenticator {
  private readonly sources = new Map<string, CachedCredential>();
  private generationNo = 0;

  constructor(auth: ReadonlyMap<string, RefreshedAuth>, options: RefreshOptions) {
    const { clock } = options;
    const execTimeoutMs = options.execTimeoutMs ?? EXEC_PLUGIN_TIMEOUT_MS;
    for (const [user, how] of auth) {
      const source =
        how.kind === 'tokenFile'
          ? { load: tokenFileLoader(user, how, clock), describeWait: () => tokenFileWait(user, how.path) }
          : {
              load: execLoader(user, how.exec, { clock, timeoutMs: execTimeoutMs }),
              describeWait: () => execWait(user, how.exec.command, execTimeoutMs),
            };
      this.sources.set(user, new CachedCredential(clock, source, () => this.generationNo++));
    }
  }

  /**
   * Applies client-node's authentication of the current user to `context` (headers, TLS, dispatcher),
   * waiting for a credential being obtained only until `signal` aborts: a request never waits for a
   * plugin longer than its own time limit, and a cancel reaches it.
   *
   * @throws CredentialUnavailableError when `signal` timed out (an `AbortSignal.timeout`) while a
   *   credential was still being obtained; the signal's reason on any other abort.
   */
  async authenticate(kubeConfig: KubeConfig, context: RequestContext, signal?: AbortSignal): Promise<void> {
    const applying = kubeConfig.applySecurityAuthentication(context);
    if (!signal) return applying;
    try {
      await untilAborted(applying, signal);
    } catch (e) {
      const source = this.sources.get(kubeConfig.getCurrentUser()?.name ?? '');
      const timedOut =
        signal.aborted && e === signal.reason && (e as Error | undefined)?.name === 'TimeoutError';
      if (timedOut && source?.loadingNow) throw new CredentialUnavailableError(source.describeWait());
      throw e;
    }
  }

  /** Counts credential changes: read when a request is sent, passed back to {@link invalidate} after its 401. */
  get generation(): number {
    return this.generationNo;
  }

  /** Whether this authenticator handles `user` (client-node's `Authenticator` contract). */
  isAuthProvider(user: User): boolean {
    return this.sources.has(user.name);
  }

  /** Sets the Authorization header (and an exec credential's client certificate) on `opts`. */
  async applyAuthentication(user: User, opts: RequestOptions): Promise<void> {
    const source = this.sources.get(user.name);
    if (!source) return;
    const applied = await source.get();
    if (applied.token) opts.headers = { ...opts.headers, Authorization: `Bearer ${applied.token}` };
    if (applied.cert) opts.cert = applied.cert;
    if (applied.key) opts.key = applied.key;
  }

  /**
   * After a 401 to a request sent at `generation`: drops the cached credentials so the next request
   * reads or runs them again. A no-op when a newer credential was obtained since (the retry uses it).
   */
  invalidate(generation: number): void {
    if (generation !== this.generationNo) return;
    for (const source of this.sources.values()) source.invalidate();
    this.generationNo++;
  }
}

/** A credential and until when it may be used. */
interface Loaded {
  applied: Applied;
  freshUntil: number;
}

/** How one credential is obtained, and what to say when a request gave up waiting for it. */
interface CredentialSource {
  load: () => Promise<Loaded>;
  describeWait: () => string;
}

/** One credential, loaded on demand with at most one load in flight. */
class CachedCredential {
  private current: Loaded | undefined;
  private loading: Promise<Applied> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly source: CredentialSource,
    private readonly onChange: () => void,
  ) {}

  /** Whether a load is in flight (a request waiting now waits for it). */
  get loadingNow(): boolean {
    return this.loading !== undefined;
  }

  get(): Promise<Applied> {
    const current = this.current;
    if (current && this.clock.now() < current.freshUntil) return Promise.resolve(current.applied);
    if (this.loading) return this.loading;
    const loading = this.source
      .load()
      .then((loaded) => {
        this.current = loaded;
        this.onChange();
        return loaded.applied;
      })
      .finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    // Every request that waited may have left (timed out, aborted): the failure is still theirs to see, not unhandled.
    loading.catch(() => undefined);
    this.loading = loading;
    return loading;
  }

  describeWait(): string {
    return this.source.describeWait();
  }

  invalidate(): void {
    this.current = undefined;
  }
}

function tokenFileLoader(
  user: string,
  how: { path: string; fallbackToken?: string },
  clock: Clock,
): () => Promise<Loaded> {
  let lastGood: string | undefined;
  return async () => {
    try {
      const token = (await readFile(how.path, 'utf8')).trim();
      if (token === '') throw new Error('the file is empty');
      lastGood = token;
      return { applied: { token }, freshUntil: clock.now() + TOKEN_FILE_MAX_AGE_MS };
    } catch (e) {
      const fallback = lastGood ?? how.fallbackToken;
      // Used once: the next request tries the file again.
      if (fallback) return { applied: { token: fallback }, freshUntil: clock.now() };
      throw new CredentialUnavailableError(
        `The token file "${how.path}" of the kubeconfig user "${user}" cannot be read (${reasonOf(e)}). ` +
          'Check that it exists and is readable (a projected service account token is written by the kubelet).',
      );
    }
  };
}

function tokenFileWait(user: string, path: string): string {
  return (
    `The token file "${path}" of the kubeconfig user "${user}" could not be read within the request's ` +
    'time limit. Check that its file system answers.'
  );
}

/** What stops a plugin from printing a credential without help, and what to do about it. */
const NO_PROMPT_HINT =
  'k8s-executor runs credential plugins without a terminal or stdin, as kubectl does with ' +
  '"interactiveMode: Never", so a plugin must not prompt or wait for a browser: log in beforehand ' +
  "(run the plugin, or your cloud CLI's login, by hand) so that it prints a credential at once.";

function execWait(user: string, command: string, execTimeoutMs: number): string {
  return (
    `The exec credential plugin "${command}" of the kubeconfig user "${user}" printed no credential within ` +
    `the request's time limit (requestTimeoutMs); it is probably waiting for a login. ${NO_PROMPT_HINT} ` +
    `The plugin is stopped after ${execTimeoutMs / 1000} s (execTimeoutMs) and run again by the next request.`
  );
}

function execLoader(
  user: string,
  exec: ExecConfig,
  run: { clock: Clock; timeoutMs: number },
): () => Promise<Loaded> {
  const { clock } = run;
  return async () => {
    const startedAt = clock.now();
    let status: Awaited<ReturnType<typeof runExecPlugin>>;
    try {
      status = await runExecPlugin(exec, run);
    } catch (e) {
      const reason = e instanceof ExecPluginFailure ? e.message : reasonOf(e);
      const hint =
        e instanceof ExecPluginFailure && (e.kind === 'timeout' || e.kind === 'output')
          ? NO_PROMPT_HINT
          : 'Run it by hand to see why (often: log in to the cloud CLI again).';
      throw new CredentialUnavailableError(
        `The exec credential plugin "${exec.command}" of the kubeconfig user "${user}" failed: ${reason}. ${hint}`,
      );
    }
    const applied: Applied = {
      ...(status?.token ? { token: status.token } : {}),
      ...(status?.clientCertificateData ? { cert: status.clientCertificateData } : {}),
      ...(status?.clientKeyData ? { key: status.clientKeyData } : {}),
    };
    const expiresAt = status?.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Number.NaN;
    if (Number.isNaN(expiresAt)) return { applied, freshUntil: Number.POSITIVE_INFINITY };
    const ahead = Math.min(EXEC_REFRESH_AHEAD_MS, Math.max(0, expiresAt - startedAt) / 2);
    return { applied, freshUntil: expiresAt - ahead };
  };
}

/** The first line of an error's message, at most 200 characters (plugins print long usage texts). */
function reasonOf(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const first = firstLine(e instanceof Error ? e.message : String(e));
  return typeof code === 'string' && !first.includes(code) ? `${code}: ${first}` : first || 'no message';
}

/** `promise`, or the signal's reason as soon as `signal` aborts (the promise itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
