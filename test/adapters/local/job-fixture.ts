import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Container, Job } from '../../../src/types/kube.js';

const base = parse(readFileSync(new URL('./fixtures/job.yaml', import.meta.url), 'utf8')) as Job;

/** The fixture Job, renamed and with spec fields and container fields replaced. */
export function fixtureJob(
  name: string,
  spec: { backoffLimit?: number; activeDeadlineSeconds?: number } = {},
  container: Partial<Container> = {},
): Job {
  const job = structuredClone(base);
  job.metadata.name = name;
  Object.assign(job.spec!, spec);
  const main = job.spec!.template.spec.containers[0]!;
  Object.assign(main, container);
  for (const [key, value] of Object.entries(container)) if (value === undefined) delete main[key];
  return job;
}
