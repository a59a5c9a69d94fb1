/**
 * Reads the kube-apiserver's audit log (JSON lines, `audit.k8s.io/v1` events, written by the e2e
 * cluster's `up.sh` with `E2E_AUDIT_LOG=1`): one entry per request, whoever sent it.
 */
import { readFileSync } from 'node:fs';

/** One request the API server answered. Times are ms since the epoch, with microseconds. */
export interface AuditRequest {
  auditId: string;
  verb: string;
  /** `jobs`, `pods`, `pods/log`, `jobs/status`, ... (the resource and its subresource). */
  resource: string;
  namespace?: string;
  name?: string;
  /** The path and query of the request. */
  uri: string;
  userAgent: string;
  username: string;
  /** When the server received it (`requestReceivedTimestamp`). */
  receivedAt: number;
  /** When it answered it in full (`stageTimestamp` of `ResponseComplete`), once it did. */
  completedAt?: number;
  code?: number;
}

interface AuditEvent {
  auditID: string;
  stage: string;
  requestURI: string;
  verb: string;
  user?: { username?: string };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/** `2026-12-01T22:58:01.123456Z` → ms since the epoch, keeping the microseconds. */
export function auditTime(stamp: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(stamp);
  if (!match) return Date.parse(stamp);
  const fraction = match[2] ?? '0';
  return Date.parse(`${match[1]}Z`) + Number(`0.${fraction}`) * 1000;
}

/** Every request of the audit log, once (its stages merged), in the order the server received them. */
export function readAudit(path: string): AuditRequest[] {
  const byId = new Map<string, AuditRequest>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as AuditEvent;
    const ref = event.objectRef ?? {};
    const request = byId.get(event.auditID) ?? {
      auditId: event.auditID,
      verb: event.verb,
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? ''),
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      ...(ref.name ? { name: ref.name } : {}),
      uri: event.requestURI,
      userAgent: event.userAgent ?? '',
      username: event.user?.username ?? '',
      receivedAt: auditTime(event.requestReceivedTimestamp),
    };
    if (event.stage === 'ResponseComplete' || event.stage === 'Panic') {
      request.completedAt = auditTime(event.stageTimestamp);
      if (event.responseStatus?.code !== undefined) request.code = event.responseStatus.code;
    }
    byId.set(event.auditID, request);
  }
  return [...byId.values()].sort((a, b) => a.receivedAt - b.receivedAt);
}

/** The requests received in `[from, to]` whose User-Agent starts with `userAgent`. */
export function requestsOf(
  requests: readonly AuditRequest[],
  userAgent: string,
  from: number,
  to: number,
): AuditRequest[] {
  return requests.filter(
    (r) => r.userAgent.startsWith(userAgent) && r.receivedAt >= from && r.receivedAt <= to,
  );
}

/**
 * Counts requests by `"<verb> <resource>"`; a list of the Jobs of one pipeline run (its selector names
 * `runLabel`) counts as `"list jobs (run)"`.
 */
export function countByCall(requests: readonly AuditRequest[], runLabel: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    const run = r.verb === 'list' && decodeURIComponent(r.uri).includes(runLabel);
    const key = `${r.verb} ${r.resource}${run ? ' (run)' : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The User-Agents seen in `[from, to]` from `username`, with their request counts. */
export function userAgentsOf(
  requests: readonly AuditRequest[],
  username: string,
  from: number,
  to: number,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    if (r.username !== username || r.receivedAt < from || r.receivedAt > to) continue;
    counts[r.userAgent] = (counts[r.userAgent] ?? 0) + 1;
  }
  return counts;
}

/**
 * When the API server received the Job controller's last write of Job `name`'s status at or before
 * `before` (the write that made it final, when `before` is when its final state was seen): the
 * `requestReceivedTimestamp` of the last `update`/`patch` of `jobs/status` by someone else than
 * `exceptUserAgent`. Not its `ResponseComplete` time: the watch event goes out when the write is
 * committed, and a busy server finishes the writer's response only later, at times after the executor
 * already acted on the event. Counting from the receipt includes the server's own write time: the gap
 * measured is an upper bound.
 */
export function lastStatusWrite(
  requests: readonly AuditRequest[],
  name: string,
  before: number,
  exceptUserAgent: string,
): number | undefined {
  let last: number | undefined;
  for (const r of requests) {
    if (r.resource !== 'jobs/status' || r.name !== name) continue;
    if (r.verb !== 'update' && r.verb !== 'patch') continue;
    if (r.userAgent.startsWith(exceptUserAgent) || r.code === undefined || r.code >= 300) continue;
    if (r.receivedAt <= before && (last === undefined || r.receivedAt > last)) last = r.receivedAt;
  }
  return last;
}

/** When the Job `name` was created: the `create jobs` request the server received for it. */
export function createOf(requests: readonly AuditRequest[], name: string): AuditRequest | undefined {
  return requests.find(
    (r) =>
      r.verb === 'create' && r.resource === 'jobs' && r.name === name && r.code !== undefined && r.code < 300,
  );
}
