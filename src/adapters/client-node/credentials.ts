import { readFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import type { User } from '@kubernetes/client-node';
import type { Clock } from '../../ports/clock.js';
import { runExecPlugin } from './client-node-internals.js';

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
 *   without one, only after a 401.
 *
 * Time comes from the injected clock.
 */
export class RefreshingAuthenticator {
  private readonly sources = new Map<string, CachedCredential>();
  private generationNo = 0;

  constructor(auth: ReadonlyMap<string, RefreshedAuth>, clock: Clock) {
    for (const [user, how] of auth) {
      const load =
        how.kind === 'tokenFile' ? tokenFileLoader(user, how, clock) : execLoader(user, how.exec, clock);
      this.sources.set(user, new CachedCredential(clock, load, () => this.generationNo++));
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

/** One credential, loaded on demand with at most one load in flight. */
class CachedCredential {
  private current: Loaded | undefined;
  private loading: Promise<Applied> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly load: () => Promise<Loaded>,
    private readonly onChange: () => void,
  ) {}

  get(): Promise<Applied> {
    const current = this.current;
    if (current && this.clock.now() < current.freshUntil) return Promise.resolve(current.applied);
    this.loading ??= this.load()
      .then((loaded) => {
        this.current = loaded;
        this.onChange();
        return loaded.applied;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
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

function execLoader(user: string, exec: ExecConfig, clock: Clock): () => Promise<Loaded> {
  return async () => {
    const startedAt = clock.now();
    const execUser: User = { name: user, exec };
    let credential: Awaited<ReturnType<typeof runExecPlugin>>;
    try {
      credential = await runExecPlugin(execUser);
    } catch (e) {
      throw new CredentialUnavailableError(
        `The exec credential plugin "${exec.command}" of the kubeconfig user "${user}" failed: ${reasonOf(e)}. ` +
          'Run it by hand to see why (often: log in to the cloud CLI again).',
      );
    }
    const status = credential?.status;
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
  const message = e instanceof Error ? e.message : String(e);
  const first = (message.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 200);
  return typeof code === 'string' && !first.includes(code) ? `${code}: ${first}` : first || 'no message';
}
