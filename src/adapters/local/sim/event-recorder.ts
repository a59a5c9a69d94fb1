import type { KubeEvent } from '../../../types/kube.js';

/** The object an event is about. */
export interface InvolvedObject {
  kind: 'Job' | 'Pod';
  namespace: string;
  name: string;
  uid: string;
}

/**
 * Keeps the `Warning` events of Jobs and Pods. Like the API server, a repeat of the same reason and
 * message on the same object bumps `count` and `lastTimestamp` instead of adding an event. The number
 * of events kept per object is bounded (oldest dropped first).
 */
export class EventRecorder {
  private readonly byObject = new Map<string, KubeEvent[]>();
  private sequence = 0;

  /** @param maxPerObject events kept per object. @default 100 */
  constructor(private readonly maxPerObject = 100) {}

  /** Records a warning about `object` at `timestamp` (RFC 3339). */
  warn(object: InvolvedObject, reason: string, message: string, timestamp: string): void {
    const key = objectKey(object.kind, object.namespace, object.name);
    const events = this.byObject.get(key) ?? [];
    const repeat = events.find(
      (e) => e.reason === reason && e.message === message && e.involvedObject?.uid === object.uid,
    );
    if (repeat) {
      repeat.count = (repeat.count ?? 1) + 1;
      repeat.lastTimestamp = timestamp;
    } else {
      this.sequence += 1;
      events.push({
        metadata: {
          name: `${object.name}.${this.sequence.toString(16).padStart(16, '0')}`,
          namespace: object.namespace,
        },
        type: 'Warning',
        reason,
        message,
        count: 1,
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        involvedObject: { ...object },
      });
      if (events.length > this.maxPerObject) events.shift();
    }
    this.byObject.set(key, events);
  }

  /** Copies of the warnings of one object, oldest first; only those of `uid` when given. */
  list(kind: 'Job' | 'Pod', namespace: string, name: string, uid?: string): KubeEvent[] {
    const events = this.byObject.get(objectKey(kind, namespace, name)) ?? [];
    return structuredClone(events.filter((e) => uid === undefined || e.involvedObject?.uid === uid));
  }
}

function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
