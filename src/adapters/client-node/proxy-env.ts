import { BlockList, isIP } from 'node:net';

/** The environment variables {@link proxyFromEnvironment} reads. */
type Env = Readonly<Record<string, string | undefined>>;

/**
 * The proxy the environment names for requests to `server`, exactly as kubectl (Go's
 * `http.ProxyFromEnvironment`, package `golang.org/x/net/http/httpproxy`) picks it:
 *
 * - `HTTPS_PROXY` (else `https_proxy`) for an `https` server, `HTTP_PROXY` (else `http_proxy`) for an
 *   `http` one (ignored when `REQUEST_METHOD` is set, as in a CGI environment); a value without a
 *   scheme means `http://`;
 * - never for `localhost` or a loopback address;
 * - not when `NO_PROXY` (else `no_proxy`) matches the server: a comma-separated list of `*` (nothing is
 *   proxied), IP addresses, CIDR ranges (`10.0.0.0/8`), and domain names that match themselves and their
 *   subdomains (`example.com`), or only subdomains with a leading dot (`.example.com`, `*.example.com`);
 *   IPs and names may carry a port (`10.0.0.1:6443`, `example.com:443`).
 *
 * @returns the proxy URL, or undefined to connect directly.
 * @example proxyFromEnvironment('https://10.0.0.1:6443', { HTTPS_PROXY: 'proxy:3128', NO_PROXY: '.internal' })
 * // 'http://proxy:3128'
 */
export function proxyFromEnvironment(server: string, env: Env): string | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return undefined;
  }
  const proxy =
    url.protocol === 'https:'
      ? envAny(env, 'HTTPS_PROXY', 'https_proxy')
      : url.protocol === 'http:' && !env.REQUEST_METHOD
        ? envAny(env, 'HTTP_PROXY', 'http_proxy')
        : undefined;
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (!useProxy(host, port, envAny(env, 'NO_PROXY', 'no_proxy') ?? '')) return undefined;
  return normalizeProxy(proxy);
}

/** The first non-empty of the variables, as Go's `getEnvAny`. */
function envAny(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return value;
  }
  return undefined;
}

/** `proxy:3128` → `http://proxy:3128`: Go retries a value without a scheme with `http://`. */
function normalizeProxy(proxy: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const family = isIP(host);
  if (family !== 0 && isLoopback(host, family)) return false;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return false;
    if (matches(entry, host, family, port)) return false;
  }
  return true;
}

/** Whether one `NO_PROXY` entry matches the server, with Go's parsing order: CIDR, IP[:port], domain[:port]. */
function matches(entry: string, host: string, family: number, port: string): boolean {
  const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (cidr) {
    const base = cidr[1]!;
    const baseFamily = isIP(base);
    if (baseFamily === 0) return false;
    if (family === 0) return false;
    const list = new BlockList();
    list.addSubnet(base, Number(cidr[2]), baseFamily === 6 ? 'ipv6' : 'ipv4');
    return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
  }
  const { host: entryHost, port: entryPort } = splitHostPort(entry);
  if (entryHost === '') return false;
  const portMatches = entryPort === '' || entryPort === port;
  const entryFamily = isIP(entryHost);
  if (entryFamily !== 0) {
    return family !== 0 && sameIp(entryHost, entryFamily, host, family) && portMatches;
  }
  // A domain: `*.x` and `.x` match subdomains only, `x` matches itself and its subdomains.
  const matchHost = !entryHost.startsWith('.') && !entryHost.startsWith('*.');
  const suffix = entryHost.startsWith('*.') ? entryHost.slice(1) : matchHost ? `.${entryHost}` : entryHost;
  return (host.endsWith(suffix) || (matchHost && host === suffix.slice(1))) && portMatches;
}

/** `host:port`, `[v6]:port`, or a bare host (a bare IPv6 address has colons but no port). */
function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]*)\]:(\d*)$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const hostPort = /^([^:]*):(\d*)$/.exec(entry);
  if (hostPort) return { host: hostPort[1]!, port: hostPort[2]! };
  return { host: entry.replace(/^\[(.*)\]$/, '$1'), port: '' };
}

function sameIp(a: string, aFamily: number, b: string, bFamily: number): boolean {
  const list = new BlockList();
  list.addAddress(a, aFamily === 6 ? 'ipv6' : 'ipv4');
  return list.check(b, bFamily === 6 ? 'ipv6' : 'ipv4');
}

function isLoopback(host: string, family: number): boolean {
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  return loopback.check(host, family === 6 ? 'ipv6' : 'ipv4');
}
