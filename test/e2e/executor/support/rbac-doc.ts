// docs/rbac.md read as the tests apply it: the documented minimal Role is the one the e2e suite grants.
import { readFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { TestNamespace } from './cluster.js';

/** A manifest object of docs/rbac.md, as far as the tests read it. */
export interface RbacManifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: k8s.V1PolicyRule[];
  subjects?: k8s.RbacV1Subject[];
  roleRef?: k8s.V1RoleRef;
}

/** docs/rbac.md: the objects of "Ready to apply", and the 403 example of "What a missing verb looks like". */
export async function readRbacDoc(): Promise<{ manifests: RbacManifest[]; watchForbiddenMessage: string }> {
  const doc = await readFile('docs/rbac.md', 'utf8');
  const section = (title: string) => doc.slice(doc.indexOf(title));
  const fenced = (text: string, lang: string) => {
    const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(text);
    if (!match?.[1]) throw new Error(`docs/rbac.md has no \`\`\`${lang} block where this test expects one`);
    return match[1];
  };
  return {
    manifests: parseAllDocuments(fenced(section('## Ready to apply'), 'yaml')).map(
      (d) => d.toJS() as RbacManifest,
    ),
    watchForbiddenMessage: fenced(section('## What a missing verb looks like'), 'text').trim(),
  };
}

/** The same manifest in another namespace (the object and the binding's subjects). */
export function inNamespace(manifest: RbacManifest, namespace: string): RbacManifest {
  return {
    ...manifest,
    metadata: { ...manifest.metadata, namespace },
    ...(manifest.subjects ? { subjects: manifest.subjects.map((s) => ({ ...s, namespace })) } : {}),
  };
}

/** Applies the documented ServiceAccount, Role and RoleBinding in the namespace; resolves the SA's name. */
export async function applyDocumentedRole(ns: TestNamespace, admin: k8s.KubeConfig): Promise<string> {
  const { manifests } = await readRbacDoc();
  const [sa, role, binding] = ['ServiceAccount', 'Role', 'RoleBinding'].map((kind) => {
    const found = manifests.find((m) => m.kind === kind);
    if (!found) throw new Error(`docs/rbac.md's manifest has no ${kind}`);
    return inNamespace(found, ns.name);
  }) as [RbacManifest, RbacManifest, RbacManifest];
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await ns.core.createNamespacedServiceAccount({ namespace: ns.name, body: sa });
  await rbac.createNamespacedRole({ namespace: ns.name, body: { ...role, rules: role.rules ?? [] } });
  await rbac.createNamespacedRoleBinding({
    namespace: ns.name,
    body: { ...binding, roleRef: binding.roleRef as k8s.V1RoleRef },
  });
  return sa.metadata.name;
}
