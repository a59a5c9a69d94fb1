import type { SimCluster } from '../../../src/adapters/local/sim/sim-cluster.js';
import type { DeleteOptions, ListOptions, LogOptions } from '../../../src/ports/job-client.js';
import type { Job } from '../../../src/types/kube.js';
import type { Counters } from './counters.js';
import { errorReply, json, type Reply, statusReply } from './replies.js';
import type { Route } from './routes.js';

/** Serves one non-streaming request from the simulated cluster. */
export async function serve(
  cluster: SimCluster,
  route: Route,
  body: string,
  counters: Counters,
): Promise<Reply> {
  const { namespace, name, query } = route;
  try {
    switch (`${route.verb} ${route.resource}`) {
      case 'create jobs': {
        const dryRun = query.get('dryRun') === 'All';
        const created = await cluster.createJob(namespace, JSON.parse(body) as Job, { dryRun });
        if (!dryRun) counters.created(created.metadata.name ?? '');
        return json(201, created);
      }
      case 'get jobs': {
        const job = await cluster.getJob(namespace, name!);
        return job ? json(200, job) : statusReply(404, 'NotFound', `jobs.batch "${name}" not found`);
      }
      case 'list jobs': {
        const list = await cluster.listJobs(namespace, query.get('labelSelector') ?? '', listOptions(query));
        return json(200, {
          kind: 'JobList',
          apiVersion: 'batch/v1',
          metadata: { resourceVersion: list.resourceVersion },
          items: list.items,
        });
      }
      case 'delete jobs': {
        const deleted = await cluster.deleteJob(namespace, name!, deleteOptions(query, body));
        return deleted
          ? json(200, {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Success',
              details: { name, group: 'batch', kind: 'jobs' },
            })
          : statusReply(404, 'NotFound', `jobs.batch "${name}" not found`);
      }
      case 'list pods': {
        const list = await cluster.listPods(namespace, query.get('labelSelector') ?? '', listOptions(query));
        return json(200, {
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: list.resourceVersion },
          items: list.items,
        });
      }
      case 'get pods/log': {
        const text = await cluster.readPodLog(namespace, name!, logOptions(query));
        return { status: 200, body: text, contentType: 'text/plain' };
      }
      case 'list events': {
        const selector = fieldSelector(query.get('fieldSelector') ?? '');
        const kind = selector['involvedObject.kind'] === 'Pod' ? 'Pod' : 'Job';
        const uid = selector['involvedObject.uid'];
        const events = await cluster.listWarningEvents(namespace, {
          kind,
          name: selector['involvedObject.name'] ?? '',
          ...(uid ? { uid } : {}),
        });
        return json(200, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items: events });
      }
      default:
        return statusReply(405, 'MethodNotAllowed', `${route.verb} ${route.resource} is not served`);
    }
  } catch (error) {
    return errorReply(error);
  }
}

/**
 * The list options of a query: its `resourceVersion` (any: the state served is always the newest).
 * `limit` is not read: every list is answered whole, without a continue token, as the API server
 * answers a list with `resourceVersion=0` from its watch cache.
 */
function listOptions(query: URLSearchParams): ListOptions {
  const resourceVersion = query.get('resourceVersion');
  return resourceVersion !== null ? { resourceVersion } : {};
}

/** The log options of a query: `container`, `tailLines`, `sinceTime`, `timestamps`. */
export function logOptions(query: URLSearchParams): LogOptions {
  const container = query.get('container');
  const tailLines = query.get('tailLines');
  const sinceTime = query.get('sinceTime');
  return {
    ...(container !== null ? { container } : {}),
    ...(tailLines !== null ? { tailLines: Number(tailLines) } : {}),
    ...(sinceTime !== null ? { sinceTime } : {}),
    ...(query.get('timestamps') === 'true' ? { timestamps: true } : {}),
  };
}

/**
 * The options of a delete: `propagationPolicy` from the query or the `DeleteOptions` body, and the
 * body's `preconditions.uid` (the API takes preconditions only in the body).
 */
function deleteOptions(query: URLSearchParams, body: string): DeleteOptions {
  let sent: { propagationPolicy?: string; preconditions?: { uid?: string } } = {};
  try {
    if (body.trim() !== '') sent = JSON.parse(body) as typeof sent;
  } catch {
    // Not JSON: only the query counts.
  }
  const policy = query.get('propagationPolicy') ?? sent.propagationPolicy;
  const uid = sent.preconditions?.uid;
  return {
    propagationPolicy: policy === 'Background' ? 'Background' : 'Foreground',
    ...(uid ? { uid } : {}),
  };
}

/** `a=b,c=d` → `{ a: 'b', c: 'd' }` (the adapter only sends equality terms). */
function fieldSelector(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(',')
      .filter((term) => term.includes('='))
      .map((term) => [term.slice(0, term.indexOf('=')), term.slice(term.indexOf('=') + 1)]),
  );
}
