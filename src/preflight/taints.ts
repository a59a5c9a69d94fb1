import type { Taint } from '../ports/cluster-inspector.js';
import type { JsonObject } from '../types/kube.js';

/** A pod toleration (`core/v1` Toleration). */
export interface Toleration {
  key?: string;
  /** `Equal` (the default) or `Exists`. */
  operator?: string;
  value?: string;
  /** The effect tolerated; empty tolerates every effect. */
  effect?: string;
}

/** Effects that keep a pod off a node (`PreferNoSchedule` only makes the scheduler prefer another). */
const BLOCKING_EFFECTS: ReadonlySet<string> = new Set(['NoSchedule', 'NoExecute']);

/** Reads the pod's tolerations (anything that is not one is left out). */
export function tolerationsOf(raw: readonly JsonObject[]): Toleration[] {
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return raw.map((t) => {
    const toleration: Toleration = {};
    for (const field of ['key', 'operator', 'value', 'effect'] as const) {
      const value = text(t[field]);
      if (value !== undefined) toleration[field] = value;
    }
    return toleration;
  });
}

/**
 * Whether a toleration tolerates a taint, as Kubernetes decides it (`ToleratesTaint`): the effect
 * matches (or the toleration names none), the key matches (or the toleration names none: with `Exists`
 * it tolerates every taint), and the value is equal (`Equal`, the default operator) or anything (`Exists`).
 */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator || 'Equal';
  if (operator === 'Exists') return true;
  if (operator === 'Equal') return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

/** The taints of a node that keep the pod off it: `NoSchedule` and `NoExecute` ones that no toleration tolerates. */
export function untoleratedTaints(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint[] {
  return taints.filter(
    (taint) => BLOCKING_EFFECTS.has(taint.effect) && !tolerations.some((t) => tolerates(t, taint)),
  );
}

/** A taint as kubectl writes it: `dedicated=data-jobs:NoSchedule`, `gpu:NoExecute`. */
export function describeTaint(taint: Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}
