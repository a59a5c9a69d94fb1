import type { JobClient } from '../../src/ports/job-client.js';
import type { Job } from '../../src/types/kube.js';

type CreateArgs = Parameters<JobClient['createJob']>;

/** `client` with its `createJob` replaced by `create`, which gets the real one to call. */
export function withCreate<C extends JobClient>(
  client: C,
  create: (real: (...args: CreateArgs) => Promise<Job>, ...args: CreateArgs) => Promise<Job>,
): C {
  const real = (...args: CreateArgs) => client.createJob(...args);
  return new Proxy(client, {
    get: (target, key) => {
      if (key === 'createJob') return (...args: CreateArgs) => create(real, ...args);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `client` whose creates wait until the test answers them: each puts its answer in `pending`. */
export function heldCreates<C extends JobClient>(client: C, pending: (() => void)[]): C {
  return withCreate(client, async (real, ...args) => {
    await new Promise<void>((resolve) => pending.push(resolve));
    return real(...args);
  });
}
