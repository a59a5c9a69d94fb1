/** The verbs the fake server serves, named as RBAC names them (a log follow is a `get` of `pods/log`). */
export type Verb = 'create' | 'get' | 'list' | 'watch' | 'delete';

/** The resources the fake server serves, named as RBAC names them. */
export type Resource = 'jobs' | 'pods' | 'pods/log' | 'events';

/** One request, understood: what it does to which object. */
export interface Route {
  readonly verb: Verb;
  readonly resource: Resource;
  readonly namespace: string;
  /** The object named in the path (a Job, or the pod of a log). */
  readonly name?: string;
  /** Query parameters. */
  readonly query: URLSearchParams;
  /** A long-lived response: a watch, or a log read with `follow=true`. */
  readonly streaming: boolean;
}

const JOBS = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/;
const PODS = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/;
const POD_LOG = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/;
const EVENTS = /^\/api\/v1\/namespaces\/([^/]+)\/events$/;

/**
 * Maps a method and URL to the {@link Route} the client-node adapter means by it (the paths of
 * `src/adapters/client-node/job-client.ts`); undefined for anything else.
 *
 * @example
 * routeOf('GET', '/apis/batch/v1/namespaces/ml/jobs?watch=true'); // { verb: 'watch', resource: 'jobs', ... }
 */
export function routeOf(method: string, rawUrl: string): Route | undefined {
  const url = new URL(rawUrl, 'http://fake');
  const query = url.searchParams;
  const path = url.pathname;
  const watching = query.get('watch') === 'true' || query.get('watch') === '1';
  const decode = (segment: string | undefined) =>
    segment === undefined ? undefined : decodeURIComponent(segment);

  const jobs = JOBS.exec(path);
  if (jobs) {
    const namespace = decode(jobs[1])!;
    const name = decode(jobs[2]);
    if (name === undefined && method === 'POST') return route('create', 'jobs', namespace, query);
    if (name === undefined && method === 'GET')
      return route(watching ? 'watch' : 'list', 'jobs', namespace, query);
    if (name !== undefined && method === 'GET') return route('get', 'jobs', namespace, query, name);
    if (name !== undefined && method === 'DELETE') return route('delete', 'jobs', namespace, query, name);
    return undefined;
  }
  if (method !== 'GET') return undefined;
  const pods = PODS.exec(path);
  if (pods) return route(watching ? 'watch' : 'list', 'pods', decode(pods[1])!, query);
  const log = POD_LOG.exec(path);
  if (log) return route('get', 'pods/log', decode(log[1])!, query, decode(log[2]));
  const events = EVENTS.exec(path);
  if (events) return route('list', 'events', decode(events[1])!, query);
  return undefined;
}

/** The counter key of a route, as the adapter's `apiCalls()` spells it: `"<verb> <resource>"`. */
export function callKey(route: Pick<Route, 'verb' | 'resource'>): string {
  return `${route.verb} ${route.resource}`;
}

function route(
  verb: Verb,
  resource: Resource,
  namespace: string,
  query: URLSearchParams,
  name?: string,
): Route {
  const streaming = verb === 'watch' || (resource === 'pods/log' && query.get('follow') === 'true');
  return { verb, resource, namespace, query, streaming, ...(name !== undefined ? { name } : {}) };
}
