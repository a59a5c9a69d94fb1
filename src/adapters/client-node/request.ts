import type { Readable } from 'node:stream';

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** One request to the API server. */
export interface KubeRequest {
  /** The HTTP method (the executor never patches or updates). */
  method: 'GET' | 'POST' | 'DELETE';
  /** The path, e.g. `/apis/batch/v1/namespaces/ml/jobs`. Segments must already be encoded. */
  path: string;
  /** Query parameters, e.g. `labelSelector`, `watch`. */
  query?: Query;
  /** A JSON body. */
  body?: unknown;
  /** Aborts the request (and the stream it returns). */
  signal?: AbortSignal;
  /** Told the HTTP status of each answer (for metrics). */
  onResponse?: (status: number) => void;
}

/** A 2xx reply whose body is read as a stream. */
export interface StreamReply {
  /** The response body; destroyed when the request's signal aborts. */
  body: Readable;
}

/** Encodes one path segment (names are DNS labels, but never trust input in a URL). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
