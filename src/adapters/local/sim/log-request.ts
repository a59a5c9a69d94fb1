import type { ApiError, ApiOperation } from '../../../errors/api-error.js';
import type { LogOptions } from '../../../ports/job-client.js';
import type { Pod } from '../../../types/kube.js';
import { parseLogTime } from '../../../types/log-time.js';
import { invalid, notFound, simOperation } from './api-errors.js';
import type { LogWindow } from './pod-logs.js';

/**
 * Checks a log request the way the API server and the kubelet do, and returns the window of lines it
 * asks for. `sinceTime` is inclusive and, as the API server passes it on to the kubelet with whole
 * seconds (`time.RFC3339`), lines earlier in that second come again: a client that resumes must drop
 * what it already has.
 *
 * @throws ApiError 404 for a missing pod; 400 for a missing or wrong container, one not started yet,
 *   or a `sinceTime` that is not RFC 3339.
 */
export function logWindow(
  pod: Pod | undefined,
  namespace: string,
  podName: string,
  options: LogOptions,
): LogWindow {
  const op = simOperation('get', 'pods/log', namespace, podName);
  if (!pod) throw notFound({ ...op, resource: 'pods' });
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const container = options.container ?? (names.length === 1 ? names[0] : undefined);
  if (container === undefined) {
    throw badLog(
      op,
      `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`,
    );
  }
  if (!names.includes(container)) throw badLog(op, `container ${container} is not valid for pod ${podName}`);
  if (container !== names[0]) {
    throw badLog(
      op,
      `container ${container} of pod ${podName} is not run by the simulated cluster (only the first container is)`,
    );
  }
  const state = pod.status?.containerStatuses?.[0]?.state;
  if (!state?.running && !state?.terminated) {
    const reason = state?.waiting?.reason ?? 'ContainerCreating';
    throw badLog(op, `container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  }
  let sinceTime: bigint | undefined;
  if (options.sinceTime !== undefined) {
    const parsed = parseLogTime(options.sinceTime);
    if (parsed === undefined) throw badLog(op, `sinceTime "${options.sinceTime}" is not an RFC 3339 time`);
    sinceTime = parsed - (parsed % 1_000_000_000n);
  }
  return {
    ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {}),
    ...(sinceTime !== undefined ? { sinceTime } : {}),
    ...(options.timestamps ? { timestamps: true } : {}),
  };
}

function badLog(op: ApiOperation, message: string): ApiError {
  return invalid(
    op,
    `${message}.`,
    'Wait until the container has started, or name the right container.',
    400,
  );
}
