import { ApiError, type ApiOperation } from '../../errors/api-error.js';
import type { ErrorCode } from '../../errors/codes.js';
import { CredentialUnavailableError } from './credentials.js';

/**
 * A non-2xx reply of the API server, as the transport saw it: status, raw body text and headers.
 * Internal to the adapter; {@link classify} turns it into an {@link ApiError}.
 */
export class HttpStatusError extends Error {
  /**
   * @param authGeneration the credential generation the request was sent with (see
   *   `RefreshingAuthenticator.generation`), so that a 401 invalidates exactly that credential.
   */
  constructor(
    readonly status: number,
    readonly bodyText: string,
    readonly headers: Readonly<Record<string, string>>,
    readonly authGeneration?: number,
  ) {
    super(`HTTP ${status}`);
    this.name = 'HttpStatusError';
  }
}

/**
 * A request that failed on its way, before or while its reply came (no connection, a proxy or TLS
 * failure, a reset, a reply that is not HTTP): `cause` is undici's error. Transient, as any network
 * failure, unless its cause is a TLS verification error (see {@link classify}).
 */
export class RequestFailedError extends Error {
  constructor(cause: unknown) {
    super(`request failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RequestFailedError';
  }
}

/** An {@link ApiError} plus what the retry policy needs to know beyond it. */
export interface Classified {
  /** The classified error. */
  error: ApiError;
  /** The server's `Retry-After`, in ms, when it sent one. */
  retryAfterMs?: number;
}

/** The fields of a `meta/v1` Status body that messages use. */
interface StatusBody {
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/** Network error codes that mean "try again later" (socket level, DNS hiccups, timeouts). */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** TLS errors that retrying cannot fix: the server's certificate is not the one the kubeconfig trusts. */
const TLS_VERIFICATION_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Values shorter than this are not redacted: they would garble messages and reveal nothing. */
const MIN_REDACTED_LENGTH = 4;

/**
 * Describes the call the way RBAC does: `"watch" "jobs" (group "batch") in namespace "ml"`.
 *
 * @example describeOperation({ verb: 'get', resource: 'pods/log', group: '', namespace: 'ml', name: 'p' })
 * // '"get" "pods/log" (group "" (core)) "p" in namespace "ml"'
 */
export function describeOperation(op: ApiOperation): string {
  const group = op.group === '' ? '"" (core)' : `"${op.group}"`;
  const name = op.name ? ` "${op.name}"` : '';
  const namespace = op.namespace ? ` in namespace "${op.namespace}"` : '';
  return `"${op.verb}" "${op.resource}" (group ${group})${name}${namespace}`;
}

/** The Role rule that grants `op`, in the one-line YAML flow style of `docs/rbac.md`. */
export function roleRuleFor(op: ApiOperation): string {
  return `{apiGroups: ["${op.group}"], resources: ["${op.resource}"], verbs: ["${op.verb}"]}`;
}

/**
 * Classifies any failure of one API call into an {@link ApiError}:
 * 401 `API_UNAUTHORIZED`, 403 `API_FORBIDDEN`, 404 `API_NOT_FOUND`, 409 `API_CONFLICT`, 410 `API_GONE`,
 * 400/422 `API_INVALID`, 429/5xx/network errors/timeouts `API_UNAVAILABLE` (transient).
 * An error that is already one of ours passes through unchanged.
 *
 * @param redact strings that must never appear in the message (env values of the Job being sent).
 */
export function classify(op: ApiOperation, failure: unknown, redact: readonly string[] = []): Classified {
  if (failure instanceof ApiError) return { error: failure };
  if (failure instanceof CredentialUnavailableError) {
    return {
      error: new ApiError(
        'API_UNAUTHORIZED',
        `No credentials for ${describeOperation(op)}: ${failure.message}`,
        { operation: op, cause: failure },
      ),
    };
  }
  if (failure instanceof HttpStatusError) {
    return classifyStatus(op, failure.status, parseStatus(failure.bodyText), failure.headers, redact);
  }
  return { error: classifyNetwork(op, failure) };
}

/**
 * Classifies a `meta/v1` Status object met inside a stream (a watch `ERROR` event) by its `code`.
 * A Status without a code counts as a server error.
 */
export function classifyStatusObject(op: ApiOperation, status: unknown): ApiError {
  const body = isObject(status) ? (status as StatusBody) : {};
  return classifyStatus(op, typeof body.code === 'number' ? body.code : 500, body, {}, []).error;
}

function classifyStatus(
  op: ApiOperation,
  status: number,
  body: StatusBody,
  headers: Readonly<Record<string, string>>,
  redact: readonly string[],
): Classified {
  const what = describeOperation(op);
  const server = body.message ? ` The server said: ${redactValues(body.message, redact)}` : '';
  const make = (code: ErrorCode, message: string, transient = false) =>
    new ApiError(code, message, { status, operation: op, transient });

  switch (status) {
    case 401:
      return {
        error: make(
          'API_UNAUTHORIZED',
          `The API server rejected the credentials (401 Unauthorized) for ${what}, also after they were refreshed ` +
            '(token file read again, exec plugin run again) and the request was sent once more: the token or client ' +
            'certificate of the current kubeconfig context is missing, expired or invalid. Refresh the credentials ' +
            '(e.g. run your cloud CLI\'s "get-credentials" again) or check the service account token.',
        ),
      };
    case 403:
      return {
        error: make(
          'API_FORBIDDEN',
          `Forbidden (403): the executor's identity cannot ${what}: grant it with a Role rule ` +
            `${roleRuleFor(op)} bound to its service account or user; see docs/rbac.md.${server}`,
        ),
      };
    case 404:
      return {
        error: make(
          'API_NOT_FOUND',
          `Not found (404) for ${what}: the object (or the namespace) does not exist; check the name and namespace.${server}`,
        ),
      };
    case 409:
      return {
        error: make(
          'API_CONFLICT',
          `Conflict (409) for ${what}: an object of that name already exists or was changed meanwhile.${server}`,
        ),
      };
    case 410:
      return {
        error: make(
          'API_GONE',
          `Gone (410) for ${what}: the resourceVersion is too old; list again and watch from the list's resourceVersion.${server}`,
        ),
      };
    case 400:
    case 422:
      return {
        error: make(
          'API_INVALID',
          `The API server rejected ${what} as invalid (${status}${body.reason ? ` ${body.reason}` : ''})` +
            (body.details?.causes?.length
              ? `${formatCauses(body, redact)}. Fix these fields in the executor config.`
              : `.${server}`),
        ),
      };
    default:
      if (status === 429 || status >= 500) {
        const retryAfterMs = parseRetryAfter(headers['retry-after']);
        return {
          error: make(
            'API_UNAVAILABLE',
            `The API server could not serve ${what} (${status}${body.reason ? ` ${body.reason}` : ''}); ` +
              `this is usually temporary: retry later or check the cluster's health.${server}`,
            true,
          ),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
      }
      return { error: make('API_INVALID', `Unexpected reply ${status} for ${what}.${server}`) };
  }
}

function classifyNetwork(op: ApiOperation, failure: unknown): ApiError {
  const { code, message } = networkCause(failure);
  if (code !== undefined && TLS_VERIFICATION_CODES.has(code)) {
    return new ApiError(
      'API_UNAVAILABLE',
      `The TLS connection for ${describeOperation(op)} failed certificate verification (${code}): the API ` +
        "server's certificate is not signed by the kubeconfig cluster's certificate-authority, has expired, or " +
        'does not match its address (or tls-server-name). Fix the cluster entry of the kubeconfig.',
      { operation: op, cause: failure },
    );
  }
  const timedOut = isError(failure) && (failure.name === 'TimeoutError' || code === 'ETIMEDOUT');
  const transient =
    timedOut ||
    failure instanceof RequestFailedError ||
    (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) ||
    isFetchFailed(failure);
  if (!transient) {
    // Not a network failure (a kubeconfig/auth plugin problem, say): its own first line says what is wrong.
    const reason = isError(failure) ? (failure.message.split('\n')[0] ?? '').slice(0, 200) : String(failure);
    return new ApiError(
      'API_UNAVAILABLE',
      `The request for ${describeOperation(op)} could not be sent: ${reason}. Check the kubeconfig's cluster and user.`,
      { operation: op, cause: failure },
    );
  }
  const detail = timedOut
    ? `timed out${code ? ` (${code})` : ''}`
    : code
      ? `failed with ${code} (${message})`
      : `failed (${message})`;
  return new ApiError(
    'API_UNAVAILABLE',
    `The request for ${describeOperation(op)} ${detail} before the API server answered: check that the ` +
      'cluster is reachable from here (server address, VPN, proxy) and retry.',
    { operation: op, transient, cause: failure },
  );
}

/** The socket error code and message, from the error or along its `cause` chain (the transport wraps them in a `RequestFailedError`). */
function networkCause(failure: unknown): { code?: string; message: string } {
  let current: unknown = failure;
  let message = isError(failure) ? failure.message : String(failure);
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    const { code, message: own } = current as { code?: unknown; message?: unknown };
    if (typeof own === 'string') message = own;
    if (typeof code === 'string') return { code, message };
    current = (current as { cause?: unknown }).cause;
  }
  return { message };
}

/** A failure that names a network failure only in its message (no code along its causes). */
function isFetchFailed(failure: unknown): boolean {
  return isError(failure) && /fetch failed|socket hang up|other side closed/i.test(failure.message);
}

function formatCauses(body: StatusBody, redact: readonly string[]): string {
  const causes = body.details?.causes ?? [];
  if (causes.length === 0) return '';
  const parts = causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? c.reason ?? 'invalid'}`);
  return `: ${redactValues(parts.join('; '), redact)}`;
}

/** Parses a Status body; anything else (HTML from a proxy, empty) gives an empty Status. */
function parseStatus(text: string): StatusBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return isObject(parsed) ? (parsed as StatusBody) : {};
  } catch {
    return {};
  }
}

/** `Retry-After` in seconds (the API server never sends an HTTP date), as ms. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/**
 * Replaces every occurrence of each secret value with `***`: as written, and as the API server echoes
 * it inside a JSON string (quotes and backslashes escaped), once or twice.
 */
export function redactValues(text: string, secrets: readonly string[]): string {
  const forms = secrets
    .filter((s) => s.length >= MIN_REDACTED_LENGTH)
    .flatMap((s) => {
      const once = JSON.stringify(s).slice(1, -1);
      return [s, once, JSON.stringify(once).slice(1, -1)];
    })
    // Longest first, so an escaped form is not half-replaced by a shorter one.
    .sort((a, b) => b.length - a.length);
  return forms.reduce((out, form) => out.split(form).join('***'), text);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isError(value: unknown): value is Error {
  return value instanceof Error || (isObject(value) && typeof (value as Error).message === 'string');
}
