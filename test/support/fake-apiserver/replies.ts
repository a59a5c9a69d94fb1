import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../../src/errors/api-error.js';
import type { Fault } from './fault-plan.js';

/** A non-streaming answer. */
export interface Reply {
  status: number;
  body: string;
  contentType: 'application/json' | 'text/plain';
}

/** The `reason` of a `meta/v1` Status, by HTTP status. */
const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'AlreadyExists',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The status, reason and message a thrown error is answered with. */
export function statusOf(error: unknown): { status: number; reason: string; message: string } {
  if (error instanceof ApiError) {
    const status = error.status ?? 500;
    // A failed precondition is a 409 Conflict, not AlreadyExists.
    const reason = status === 409 && /Precondition failed/.test(error.message) ? 'Conflict' : REASONS[status];
    return { status, reason: reason ?? 'InternalError', message: error.message };
  }
  return { status: 500, reason: 'InternalError', message: String(error) };
}

export function errorReply(error: unknown): Reply {
  const { status, reason, message } = statusOf(error);
  return statusReply(status, reason, message);
}

export function statusBody(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export function statusReply(status: number, reason: string, message: string): Reply {
  return json(status, statusBody(status, reason, message));
}

export function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value), contentType: 'application/json' };
}

export function send(res: ServerResponse, reply: Reply, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(reply.status, { 'Content-Type': reply.contentType, ...headers });
  res.end(reply.body);
}

export function sendStatus(res: ServerResponse, status: number, reason: string, message: string): void {
  send(res, statusReply(status, reason, message));
}

/** Plays a fault on the response. */
export function inject(fault: Fault, req: IncomingMessage, res: ServerResponse, body: string): void {
  if (fault.type === 'reset') {
    req.socket.destroy();
    return;
  }
  const message =
    typeof fault.message === 'function'
      ? fault.message(body)
      : (fault.message ?? `injected fault: HTTP ${fault.status}`);
  const reason = REASONS[fault.status] ?? 'InternalError';
  const headers: Record<string, string> =
    fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
  const status = statusBody(fault.status, reason, message);
  const reply = json(fault.status, fault.details ? { ...status, details: fault.details(body) } : status);
  send(res, reply, headers);
}
