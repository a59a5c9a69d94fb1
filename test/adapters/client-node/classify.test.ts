import { describe, expect, it } from 'vitest';
import { classify, HttpStatusError, redactValues } from '../../../src/adapters/client-node/classify.js';
import type { ApiOperation } from '../../../src/errors/api-error.js';

const op: ApiOperation = { verb: 'create', resource: 'jobs', group: 'batch', namespace: 'ml', name: 'j1' };

function networkError(code: string, message = 'fetch failed'): Error {
  return new TypeError(message, { cause: Object.assign(new Error(`connect ${code}`), { code }) });
}

describe('classify', () => {
  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'UND_ERR_SOCKET'])(
    'a %s under "fetch failed" is transient API_UNAVAILABLE naming the code',
    (code) => {
      const { error } = classify(op, networkError(code));
      expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: true, status: undefined });
      expect(error.message).toContain(code);
    },
  );

  it('socket hang up and request timeouts are transient', () => {
    expect(classify(op, new Error('socket hang up')).error.transient).toBe(true);
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const { error } = classify(op, timeout);
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: true });
    expect(error.message).toContain('timed out');
  });

  it('a failure that is not a network error is reported with its first line, not retried', () => {
    const { error } = classify(
      op,
      new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false'),
    );
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: false });
    expect(error.message).toContain('HTTP protocol is not allowed');
  });

  it('reads Retry-After seconds only on retryable statuses', () => {
    const busy = classify(op, new HttpStatusError(429, '', { 'retry-after': '7' }));
    expect(busy.retryAfterMs).toBe(7000);
    expect(classify(op, new HttpStatusError(503, '', {})).retryAfterMs).toBeUndefined();
    expect(classify(op, new HttpStatusError(403, '', { 'retry-after': '7' })).retryAfterMs).toBeUndefined();
  });

  it('keeps working when the body is not a Status (an HTML page from a proxy)', () => {
    const { error } = classify(op, new HttpStatusError(502, '<html>Bad Gateway</html>', {}));
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: true, status: 502 });
  });
});

describe('redactValues', () => {
  it('replaces every occurrence of each secret, leaving values too short to matter', () => {
    expect(redactValues('a=hunter2 b=hunter2 c=1', ['hunter2', '1'])).toBe('a=*** b=*** c=1');
  });
});
