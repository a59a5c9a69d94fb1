import { describe, expect, it } from 'vitest';
import { containerEnv, expandReferences } from '../../../src/adapters/local/container-env.js';
import { LineSplitter } from '../../../src/adapters/local/line-splitter.js';
import { matchesSelector, parseLabelSelector } from '../../../src/adapters/local/sim/label-selector.js';
import { NameGenerator } from '../../../src/adapters/local/sim/name-generator.js';
import { RevisionCounter, VersionedStore } from '../../../src/adapters/local/sim/versioned-store.js';
import type { Pod, WatchEvent } from '../../../src/types/kube.js';

const pod = (name: string, labels: Record<string, string> = {}): Pod => ({
  metadata: { name, namespace: 'ns', labels },
});

describe('label selectors', () => {
  it.each([
    ['job-name=a', { 'job-name': 'a' }, true],
    ['job-name==a', { 'job-name': 'b' }, false],
    ['job-name=a,tier!=web', { 'job-name': 'a', tier: 'web' }, false],
    ['tier!=web', {}, true],
    ['app.kubernetes.io/managed-by', { 'app.kubernetes.io/managed-by': 'x' }, true],
    ['!paused', { paused: 'true' }, false],
    ['', { any: 'thing' }, true],
  ])('%s on %o → %s', (selector, labels, expected) => {
    const parsed = parseLabelSelector(selector);
    expect(typeof parsed).not.toBe('string');
    expect(matchesSelector(parsed as Exclude<typeof parsed, string>, labels)).toBe(expected);
  });

  it('explains a selector it cannot parse', () => {
    expect(parseLabelSelector('a in (b)')).toMatch(/"a in \(b\)" is not an equality-based requirement/);
  });
});

describe('VersionedStore', () => {
  it('keeps a bounded history: resuming before the oldest kept event is too old', () => {
    const store = new VersionedStore<Pod>(new RevisionCounter(), 2);
    const first = store.add(pod('a'));
    store.add(pod('b'));
    store.add(pod('c'));
    const since = Number(first.metadata.resourceVersion);
    expect(store.tooOld(since)).toBeUndefined(); // events b and c are kept
    expect(store.tooOld(since - 1)).toBe(since); // event a was dropped
  });

  it('starts a watch without a version with the current objects, filtered by namespace and labels', async () => {
    const store = new VersionedStore<Pod>(new RevisionCounter());
    store.add(pod('a', { run: '1' }));
    store.add(pod('b', { run: '2' }));
    store.add({ metadata: { name: 'c', namespace: 'other', labels: { run: '1' } } });
    const seen: WatchEvent<Pod>[] = [];
    const stream = store.watch(
      { namespace: 'ns', selector: [{ key: 'run', op: 'equals', value: '1' }] },
      undefined,
      (e) => seen.push(e),
    );
    store.remove('ns', 'a');
    stream.end();
    await stream.done;
    expect(seen.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED a', 'DELETED a']);
  });

  it('ends a watch with the error its listener threw', async () => {
    const store = new VersionedStore<Pod>(new RevisionCounter());
    const stream = store.watch({ selector: [] }, undefined, () => {
      throw new Error('listener broke');
    });
    store.add(pod('a'));
    await expect(stream.done).rejects.toThrow('listener broke');
  });
});

describe('small helpers', () => {
  it('splits chunks into lines, keeping an unterminated last line and dropping \\r', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('a\r\nb')).toEqual(['a']);
    expect(splitter.push('c\n\nd')).toEqual(['bc', '']);
    expect(splitter.flush()).toEqual(['d']);
    expect(splitter.flush()).toEqual([]);
  });

  it('expands $(NAME) like the kubelet: known names, $$ escapes, unknown names kept', () => {
    expect(expandReferences('$(A)-$$(A)-$(B)', { A: 'x' })).toBe('x-$(A)-$(B)');
  });

  it('lists envFrom sources as ignored', () => {
    const { skipped } = containerEnv({ name: 'c', envFrom: [{ secretRef: { name: 'creds' } }] }, {});
    expect(skipped).toEqual(['envFrom creds is ignored by the local backend: its variables are not set.']);
  });

  it('generates the same names and uids from the same seed', () => {
    const a = new NameGenerator(7);
    const b = new NameGenerator(7);
    expect([a.generateName('job-'), a.uid()]).toEqual([b.generateName('job-'), b.uid()]);
    expect(new NameGenerator(1).generateName(`${'x'.repeat(70)}-`)).toHaveLength(63);
  });
});
