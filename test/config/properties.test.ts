import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/index.js';
import { normalizeLayer } from '../../src/config/normalize.js';
import type { ConfigSnapshot } from '../../src/ports/config-source.js';
import { BLOCK_RUN } from './snapshot-helper.js';

const canonical = (value: unknown) => {
  const layer = normalizeLayer({ value, path: ['executor_config'] });
  expect(layer.issues).toEqual([]);
  return layer.config;
};

/** Every way of writing one field, as functions of its value. */
const SPELLINGS = {
  serviceAccount: [
    (v: string) => ({ service_account_name: v }),
    (v: string) => ({ serviceAccountName: v }),
    (v: string) => ({ service_account: v }),
    (v: string) => ({ pod: { service_account_name: v } }),
    (v: string) => ({ pod: { serviceAccountName: v } }),
  ],
  cpuRequest: [
    (v: string) => ({ cpu: v }),
    (v: string) => ({ resource_requests: { cpu: v } }),
    (v: string) => ({ resourceRequests: { cpu: v } }),
    (v: string) => ({ container: { resources: { requests: { cpu: v } } } }),
    (v: string) => ({ container_config: { resources: { requests: { cpu: v } } } }),
  ],
  nodeSelector: [
    (m: Record<string, string>) => ({ node_selector: m }),
    (m: Record<string, string>) => ({ nodeSelector: m }),
    (m: Record<string, string>) => ({ pod: { node_selector: m } }),
    (m: Record<string, string>) => ({ pod: { nodeSelector: m } }),
    (m: Record<string, string>) => ({
      node_selector: Object.entries(m)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    }),
  ],
  pullSecrets: [
    (names: string[]) => ({ image_pull_secrets: names }),
    (names: string[]) => ({ pod: { image_pull_secrets: names.map((name) => ({ name })) } }),
    (names: string[]) => ({ pod: { imagePullSecrets: names.length === 1 ? names[0] : names } }),
  ],
};

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const labelKey = fc.stringMatching(/^([a-z]{1,5}\.io\/)?[a-zA-Z][a-zA-Z0-9_.-]{0,8}[a-zA-Z0-9]$/);
const quantity = fc.constantFrom('100m', '500m', '1', '2', '1.5', '4');

describe('every spelling of a field normalizes to the same canonical value', () => {
  it('service account', () => {
    fc.assert(
      fc.property(name, fc.constantFrom(...SPELLINGS.serviceAccount), (value, spell) => {
        expect(canonical(spell(value))).toEqual(canonical(SPELLINGS.serviceAccount[0]!(value)));
      }),
    );
  });

  it('cpu request (simple, detailed, shorthand, container_config)', () => {
    fc.assert(
      fc.property(quantity, fc.constantFrom(...SPELLINGS.cpuRequest), (value, spell) => {
        expect(canonical(spell(value))).toEqual({ container: { resources: { requests: { cpu: value } } } });
      }),
    );
  });

  it('node selector (map or "k=v" string, keys never rewritten)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(labelKey, name, { minKeys: 1, maxKeys: 4 }),
        fc.constantFrom(...SPELLINGS.nodeSelector),
        (map, spell) => {
          expect(canonical(spell(map))).toEqual({ pod: { nodeSelector: map } });
        },
      ),
    );
  });

  it('image pull secrets (string, names, {name} items)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...SPELLINGS.pullSecrets),
        (names, spell) => {
          expect(canonical(spell(names))).toEqual({
            pod: { imagePullSecrets: names.map((n) => ({ name: n })) },
          });
        },
      ),
    );
  });

  it('toleration fields in any mix of snake_case and camelCase', () => {
    const toleration = fc.record({
      key: name,
      operator: fc.constantFrom('Exists', 'Equal'),
      tolerationSeconds: fc.nat(1000),
    });
    fc.assert(
      fc.property(toleration, fc.boolean(), fc.boolean(), (t, snakeSeconds, atTop) => {
        const raw = {
          key: t.key,
          operator: t.operator,
          [snakeSeconds ? 'toleration_seconds' : 'tolerationSeconds']: t.tolerationSeconds,
        };
        expect(canonical(atTop ? { tolerations: [raw] } : { pod: { tolerations: [raw] } })).toEqual({
          pod: { tolerations: [t] },
        });
      }),
    );
  });
});

describe('policy with enforce: true', () => {
  const settings = fc.record(
    {
      namespace: name,
      service_account_name: name,
      resource_limits: fc.record({ cpu: quantity }, { requiredKeys: [] }),
      resource_requests: fc.record({ memory: fc.constantFrom('64Mi', '128Mi', '1Gi') }, { requiredKeys: [] }),
      node_selector: fc.dictionary(labelKey, name, { maxKeys: 3 }),
      labels: fc.dictionary(labelKey, name, { maxKeys: 3 }),
    },
    { requiredKeys: [] },
  );
  const snapshot = (block: object, policy: object): ConfigSnapshot => {
    const doc = (file: string, value: unknown) => ({ file, value, locate: () => undefined });
    return {
      projectDir: '.',
      env: {},
      issues: [],
      project: doc('metadata.yaml', { k8s_executor_config: { image: 'img:1' } }),
      pipeline: doc('p.yaml', { blocks: [{ uuid: 'b', executor_config: block }] }),
      policy: doc('policy.yaml', { enforce: true, ...policy }),
    };
  };

  it('wins over any block config for every key it sets', () => {
    fc.assert(
      fc.property(settings, settings, (block, policy) => {
        const { config, provenance } = resolveConfig({
          snapshot: snapshot(block, policy),
          mode: 'block',
          identity: BLOCK_RUN,
        });
        const canon = normalizeLayer({ value: policy, path: [] }).config as Record<string, unknown>;
        const expectSubset = (actual: unknown, expected: unknown): void => {
          if (typeof expected === 'object' && expected !== null) {
            for (const [k, v] of Object.entries(expected))
              expectSubset((actual as Record<string, unknown>)[k], v);
          } else expect(actual).toEqual(expected);
        };
        expectSubset(config, canon);
        if (policy.namespace) expect(provenance.namespace?.layer).toBe('policy');
      }),
      { numRuns: 200 },
    );
  });
});
