import type { Resource, Route, Verb } from './routes.js';

/** What an injected fault does to a request. */
export type Fault =
  /** Answer with this HTTP status and a `meta/v1` Status body (429 and 503 may carry `Retry-After`). */
  | {
      type: 'status';
      status: number;
      /** Sent as the `Retry-After` header, in seconds. */
      retryAfterSeconds?: number;
      /** The Status `message`; a function gets the request body (to echo it, as a 422 does). */
      message?: string | ((requestBody: string) => string);
      /** The Status `details` (a 422's field `causes`), built from the request body. */
      details?: (requestBody: string) => unknown;
    }
  /** Destroy the connection without an answer (the client sees a reset). */
  | { type: 'reset' };

/** When a fault applies, and to what. */
export interface FaultRule {
  /** Only these verbs. @default every verb */
  verbs?: readonly Verb[];
  /** Only these resources. @default every resource */
  resources?: readonly Resource[];
  fault: Fault;
  /** The chance that a matching request is hit, in [0, 1]. @default 1 */
  probability?: number;
  /** Hit only this many matching requests, then the rule is spent. @default unlimited */
  count?: number;
  /**
   * `before`: the request fails before the server does anything. `after`: the server does the work (the
   * Job is created or deleted) and then the answer is lost: the case that makes retries dangerous.
   * Streams (watches, log follows) are always hit `before`. @default 'before'
   */
  when?: 'before' | 'after';
}

/**
 * The faults the server injects: rules tried in order, the first one that hits wins. Draws come from
 * the seeded random generator it is given, so a plan replays the same way for the same request order.
 */
export class FaultPlan {
  private rules: { rule: FaultRule; remaining: number }[] = [];

  /** @param random values in [0, 1). */
  constructor(private readonly random: () => number) {}

  /** Replaces every rule. */
  set(rules: readonly FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY }));
  }

  /** The fault for this request, if a rule hits it (spending one of that rule's `count`). */
  draw(route: Route): { fault: Fault; when: 'before' | 'after' } | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (entry.remaining <= 0) continue;
      if (rule.verbs && !rule.verbs.includes(route.verb)) continue;
      if (rule.resources && !rule.resources.includes(route.resource)) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      entry.remaining -= 1;
      return { fault: rule.fault, when: route.streaming ? 'before' : (rule.when ?? 'before') };
    }
    return undefined;
  }
}
