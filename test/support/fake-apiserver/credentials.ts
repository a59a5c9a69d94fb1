import { writeFileSync } from 'node:fs';
import type { Clock } from '../../../src/ports/clock.js';

/**
 * The bearer tokens a fake API server accepts. One is current; after {@link rotate}, the one before
 * stays valid for a grace period (as a projected ServiceAccount token stays valid after its
 * successor is written), then only the new one is. With a token file, every rotation writes the new
 * token to it, as the kubelet refreshes a projected token file.
 */
export class Credentials {
  private previous: { token: string; until: number } | undefined;

  /**
   * @param current the token accepted first.
   * @param clock times the grace period.
   * @param tokenFile where the current token is written, when the kubeconfig points at a file.
   */
  constructor(
    private current: string,
    private readonly clock: Clock,
    readonly tokenFile?: string,
  ) {
    if (tokenFile) writeFileSync(tokenFile, current);
  }

  /** The token accepted now. */
  get token(): string {
    return this.current;
  }

  /** Whether an `Authorization` header carries a token accepted now. */
  accepts(authorization: string | undefined): boolean {
    if (authorization === `Bearer ${this.current}`) return true;
    const previous = this.previous;
    return (
      previous !== undefined &&
      authorization === `Bearer ${previous.token}` &&
      this.clock.now() < previous.until
    );
  }

  /** Makes `next` the current token (written to the token file); the old one stays valid for `graceMs`. */
  rotate(next: string, graceMs = 0): void {
    this.previous = { token: this.current, until: this.clock.now() + graceMs };
    this.current = next;
    if (this.tokenFile) writeFileSync(this.tokenFile, next);
  }
}

/** A kubeconfig for `url` whose user carries the token, or points at the token file (client-go's `tokenFile`). */
export function kubeconfig(url: string, credentials: Credentials, namespace: string): string {
  const user = credentials.tokenFile ? { tokenFile: credentials.tokenFile } : { token: credentials.token };
  // JSON is YAML: client-node's loadFromFile reads it as is.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake', user }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
    'current-context': 'fake',
  });
}
