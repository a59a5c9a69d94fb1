import { ApiError } from '../errors/api-error.js';
import type { Job } from '../types/kube.js';
import { notChecked, type Read } from './reads.js';
import type { Finding } from './types.js';

/** How the API server says that an admission webhook cannot take part in a dry run (`sideEffects` not None). */
const WEBHOOK_REFUSES_DRY_RUN = /does not support dry run/i;

/**
 * The `dry-run` finding: the API server's own verdict on the exact Job (strict field validation, every
 * admission plugin and webhook), quoting its message when it refuses (a 403 from admission, such as an
 * exceeded quota, is a refusal; a 403 from RBAC is not). A webhook that does not support dry runs, a
 * missing permission, a Job of the same name that exists, or an API server that cannot be reached leave
 * the Job `not-checked`.
 */
export function checkDryRun(jobName: string, namespace: string, read: Read<Job>): Finding {
  const what = `the server-side dry run of Job "${jobName}" in namespace "${namespace}"`;
  if (read.ok)
    return {
      check: 'dry-run',
      status: 'ok',
      message:
        'the API server accepts the Job (server-side dry run with strict field validation and admission).',
    };
  const { error } = read;
  if (!(error instanceof ApiError)) return notChecked('dry-run', what, error);
  if (WEBHOOK_REFUSES_DRY_RUN.test(error.message))
    return {
      check: 'dry-run',
      status: 'not-checked',
      message: `${what}: not checked: an admission webhook does not support dry runs (its sideEffects is not None or NoneOnDryRun): ${error.message}`,
      fix: "ask the webhook's owner to declare sideEffects: None if it has none; the real create still goes through it.",
    };
  if (error.code === 'API_CONFLICT')
    return {
      check: 'dry-run',
      status: 'not-checked',
      message: `${what}: not checked: a Job named "${jobName}" already exists, so the dry run stops there: ${error.message}`,
    };
  const server = serverMessage(error.message);
  // A 403 is RBAC's when the authorizer refused; otherwise admission refused (an exceeded quota, a policy).
  const admission = error.code === 'API_FORBIDDEN' && server !== undefined && !RBAC_DENIAL.test(server);
  if (error.code === 'API_INVALID' || error.code === 'API_NOT_FOUND' || admission)
    return {
      check: 'dry-run',
      status: 'fail',
      message: `the API server refuses the Job: ${admission ? server : error.message}`,
      fix: 'fix what the API server names (k8s-executor render shows the Job as it would be sent).',
    };
  return notChecked('dry-run', what, error);
}

/** How the RBAC authorizer words a refusal: `User "x" cannot create resource "jobs" in API group "batch"`. */
const RBAC_DENIAL = /cannot \w+ resource/;

/** The API server's own words, as the adapter quotes them after `The server said: `. */
function serverMessage(message: string): string | undefined {
  const at = message.indexOf(SERVER_SAID);
  return at < 0 ? undefined : message.slice(at + SERVER_SAID.length);
}

const SERVER_SAID = 'The server said: ';
