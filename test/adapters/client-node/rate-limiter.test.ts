import { describe, expect, it } from 'vitest';
import { ClientNodeJobClient } from '../../../src/adapters/client-node/job-client.js';
import { TokenBucketRateLimiter } from '../../../src/adapters/client-node/rate-limiter.js';
import { ConfigError } from '../../../src/errors/config-error.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { drive, server, testApi, useNock } from './helpers.js';

describe('TokenBucketRateLimiter', () => {
  it('lets a burst through at once, then spaces callers 1000/qps ms apart in arrival order', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ qps: 20, burst: 30 }, clock);
    const granted: number[] = [];
    const all = Array.from({ length: 33 }, () => limiter.acquire().then(() => granted.push(clock.now())));
    await clock.runAll();
    await Promise.all(all);
    expect(granted.slice(0, 30)).toEqual(Array(30).fill(0));
    expect(granted.slice(30)).toEqual([50, 100, 150]);
    expect(clock.sleeps).toEqual([50, 100, 150]);
  });

  it('refills with time, never above the burst', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ qps: 10, burst: 2 }, clock);
    await limiter.acquire();
    await limiter.acquire();
    await clock.advance(60_000); // a long idle time refills 2 tokens, not 600
    await limiter.acquire();
    await limiter.acquire();
    const third = limiter.acquire();
    await clock.runAll();
    await third;
    expect(clock.sleeps).toEqual([100]);
  });

  it('gives the reserved token back when a waiting caller aborts', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ qps: 10, burst: 1 }, clock);
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(aborted).rejects.toThrow('cancelled');
    const next = limiter.acquire();
    await clock.runAll();
    await next;
    expect(clock.sleeps).toEqual([100, 100]); // the next caller waits one slot, not two
  });

  it('does not limit with qps Infinity', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ qps: Number.POSITIVE_INFINITY, burst: 1 }, clock);
    for (let i = 0; i < 100; i++) await limiter.acquire();
    expect(clock.sleeps).toEqual([]);
  });

  it('rejects options that cannot work, naming both', () => {
    const clock = new FakeClock(0);
    expect(() => new TokenBucketRateLimiter({ qps: 0, burst: 0 }, clock)).toThrow(ConfigError);
    expect(() => new TokenBucketRateLimiter({ qps: 0, burst: 0 }, clock)).toThrow(
      /qps must be > 0.*\n.*burst must be >= 1/,
    );
  });
});

describe('rate limit at the HTTP edge', () => {
  useNock();

  it('spaces requests beyond the burst through the clock, and not a watch once it streams', async () => {
    server()
      .get('/apis/batch/v1/namespaces/ml/jobs/j1')
      .times(4)
      .reply(200, { metadata: { name: 'j1' } });
    const { api, clock } = testApi({ rateLimit: { qps: 10, burst: 2 } });
    const jobs = new ClientNodeJobClient(api);
    await drive(Promise.all([1, 2, 3, 4].map(() => jobs.getJob('ml', 'j1'))), clock);
    expect(clock.sleeps).toEqual([100, 200]);
    expect(api.stats().byCall).toEqual({ 'get jobs': 4 });
  });
});
