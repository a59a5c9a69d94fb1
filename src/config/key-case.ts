/**
 * Field-name spellings. Kubernetes uses camelCase; Mage's docs use the Python client's snake_case.
 * Both are accepted and turned into the API's camelCase.
 */

/** Python-client spellings whose naive camelCase loses the API's upper-case acronym. */
const ACRONYMS: Readonly<Record<string, string>> = {
  hostIp: 'hostIP',
  hostPid: 'hostPID',
  hostIpc: 'hostIPC',
  podIp: 'podIP',
  setHostnameAsFqdn: 'setHostnameAsFQDN',
  volumeId: 'volumeID',
  diskUri: 'diskURI',
  datasetUuid: 'datasetUUID',
  storagePolicyId: 'storagePolicyID',
  targetWwns: 'targetWWNs',
};

/** `toleration_seconds` → `tolerationSeconds`; camelCase stays as is; known acronyms are restored. */
export function toCamelCase(key: string): string {
  if (!key.includes('_')) return key;
  const camel = key.replace(/_+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
  return ACRONYMS[camel] ?? camel;
}

/** `tolerationSeconds` → `toleration_seconds` (for did-you-mean suggestions in the user's style). */
export function toSnakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z]+)/g, (_, a: string, b: string) => `${a}_${b.toLowerCase()}`)
    .toLowerCase();
}

/** The spelling-insensitive form used to match a key against known fields: `host_ip` ~ `hostIP`. */
export function squashKey(key: string): string {
  return key.replace(/_/g, '').toLowerCase();
}
