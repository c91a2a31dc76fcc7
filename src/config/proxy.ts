// Kamal 2's `proxy:` (top level and servers.<role>.proxy) read into ProxyConfig, with Kamal's
// defaults and rules. The schema has checked the shapes and refused the keys Traefik has no
// equivalent for; this module applies what the schema cannot say:
// - a role's proxy settings merge over the top level's, key by key (healthcheck and buffering too);
// - `host` or `hosts`, not both; `ssl` needs one of them (Kamal's rule: certificates name hosts);
// - a certificate and key from secrets must parse and belong together, checked here so a broken
//   PEM stops the load (exit 78) instead of Traefik failing on the host later. Messages name the
//   secret, never its value;
// - Traefik's buffering middleware buffers requests and responses together, so the two switches
//   must agree;
// - two routed roles on one server must not claim the same host and path.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from '../secret.ts';
import type { KeyPath } from './source.ts';
import type { HealthcheckConfig, ProxyBuffering, ProxyConfig, ProxySsl, Role } from './types.ts';

type Raw = Record<string, any>;

/** Kamal 2's default app_port when `proxy:` is given. */
export const DEFAULT_APP_PORT = 80;
/** Kamal's buffering defaults: 1 GB request bodies, no limit on responses, 1 MB in memory. */
export const DEFAULT_BUFFERING: ProxyBuffering = { maxRequestBody: 1_000_000_000, maxResponseBody: 0, memory: 1_000_000 };

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** What reading a role's proxy needs from normalize. */
export interface ProxyContext {
  readonly report: (path: KeyPath, message: string) => void;
  readonly resolveSecret: (name: string, path: KeyPath) => Secret | undefined;
  readonly seconds: (value: unknown) => number;
}

/** Whether a role is routed, by its `proxy` setting; undefined when it says nothing (Kamal's rule then: the primary role). */
export function proxyEnabled(setting: unknown): boolean | undefined {
  if (setting === undefined) return undefined;
  return setting !== false;
}

/**
 * The proxy settings of a routed role: the role's (`true` or a map) over the top level's.
 * Undefined when the file gives neither (such a file keeps mrsk's routing without `proxy:`).
 */
export function roleProxy(top: Raw | undefined, setting: unknown, rolePath: KeyPath, context: ProxyContext): ProxyConfig | undefined {
  if (top === undefined && (setting === undefined || setting === false)) return undefined;
  const own = typeof setting === 'object' && setting !== null ? (setting as Raw) : {};
  const ownPath: KeyPath = [...rolePath, 'proxy'];
  /** Where a key was written: the role's proxy if it has it, else the top level's. */
  const at = (key: string): KeyPath => (key in own ? [...ownPath, key] : ['proxy', key]);
  const merged: Raw = { ...(top ?? {}), ...own };
  for (const nested of ['healthcheck', 'buffering']) {
    if (top?.[nested] !== undefined || own[nested] !== undefined) merged[nested] = { ...(top?.[nested] ?? {}), ...(own[nested] ?? {}) };
  }
  // Kamal: host or hosts, judged on each map as written (a role may replace the top level's host with hosts).
  for (const [map, path] of [[top, ['proxy']], [own, ownPath]] as const) {
    if (map && map.host !== undefined && map.hosts !== undefined) context.report(path, 'give host or hosts, not both');
    if (map && map.path_prefix !== undefined && map.path_prefixes !== undefined) context.report(path, 'give path_prefix or path_prefixes, not both');
  }
  const hostSource = own.host !== undefined || own.hosts !== undefined ? own : (top ?? {});
  const hostsPath = hostSource === own ? ownPath : (['proxy'] as KeyPath);
  const written = hostSource.hosts !== undefined ? (hostSource.hosts as string[]) : hostSource.host !== undefined ? String(hostSource.host).split(',') : [];
  const hosts: string[] = [];
  written.forEach((entry, index) => {
    const host = entry.trim().toLowerCase();
    const path: KeyPath = hostSource.hosts !== undefined ? [...hostsPath, 'hosts', index] : [...hostsPath, 'host'];
    if (host.startsWith('*.')) context.report(path, `${host}: wildcard hosts are not supported (Traefik's Host rule matches exact names); list the names`);
    else if (!HOST_NAME.test(host)) context.report(path, `${JSON.stringify(entry)} is not a host name`);
    else if (!hosts.includes(host)) hosts.push(host);
  });

  const ssl = sslOf(merged.ssl, at('ssl'), context);
  if (ssl && hosts.length === 0) context.report(at('ssl'), 'ssl needs host or hosts: a certificate names the hosts it is for (Kamal\'s rule)');

  const prefixSource = own.path_prefix !== undefined || own.path_prefixes !== undefined ? own : merged;
  const rawPrefixes = prefixSource.path_prefixes !== undefined ? (prefixSource.path_prefixes as string[]) : prefixSource.path_prefix !== undefined ? [prefixSource.path_prefix as string] : [];
  // A trailing slash means the same prefix; `/` alone is every path.
  const pathPrefixes = [...new Set(rawPrefixes.map((prefix) => prefix.replace(/\/+$/, '')).filter((prefix) => prefix !== ''))];

  let buffering: ProxyBuffering | undefined;
  if (merged.buffering !== undefined) {
    const raw = merged.buffering as Raw;
    const requests = (raw.requests ?? true) as boolean;
    const responses = (raw.responses ?? true) as boolean;
    if (requests !== responses) {
      const key = raw.requests !== undefined && raw.requests !== true ? 'requests' : 'responses';
      context.report(at('buffering').concat(key), 'Traefik\'s buffering middleware buffers requests and responses together: set requests and responses alike');
    } else if (requests) {
      // Kamal's documentation writes 40_000_000 (YAML 1.1, Ruby's reader); YAML 1.2 reads a string.
      const bytes = (value: unknown, fallback: number) => (value === undefined ? fallback : Number(String(value).replaceAll('_', '')));
      buffering = {
        maxRequestBody: bytes(raw.max_request_body, DEFAULT_BUFFERING.maxRequestBody),
        maxResponseBody: bytes(raw.max_response_body, DEFAULT_BUFFERING.maxResponseBody),
        memory: bytes(raw.memory, DEFAULT_BUFFERING.memory),
      };
    }
  }

  return {
    hosts,
    appPort: merged.app_port !== undefined ? Number(merged.app_port) : DEFAULT_APP_PORT,
    ...(ssl ? { ssl } : {}),
    sslRedirect: (merged.ssl_redirect ?? true) as boolean,
    ...(merged.response_timeout !== undefined ? { responseTimeout: context.seconds(merged.response_timeout) } : {}),
    pathPrefixes,
    stripPathPrefix: (merged.strip_path_prefix ?? true) as boolean,
    ...(buffering ? { buffering } : {}),
  };
}

/** The role's health check under proxy: proxy.healthcheck's keys over the role's (or top-level) check, on app_port. */
export function proxyHealthcheck(base: HealthcheckConfig, top: Raw | undefined, setting: unknown, proxy: ProxyConfig, seconds: (value: unknown) => number): HealthcheckConfig {
  const own = typeof setting === 'object' && setting !== null ? ((setting as Raw).healthcheck as Raw | undefined) : undefined;
  const check: Raw = { ...((top?.healthcheck as Raw | undefined) ?? {}), ...(own ?? {}) };
  return {
    ...base,
    port: proxy.appPort,
    ...(check.path !== undefined ? { path: check.path as string } : {}),
    ...(check.interval !== undefined ? { interval: seconds(check.interval) } : {}),
    ...(check.timeout !== undefined ? { timeout: seconds(check.timeout) } : {}),
  };
}

function sslOf(value: unknown, path: KeyPath, context: ProxyContext): ProxySsl | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { kind: 'acme' };
  const names = value as { certificate_pem: string; private_key_pem: string };
  const certificate = context.resolveSecret(names.certificate_pem, [...path, 'certificate_pem']);
  const privateKey = context.resolveSecret(names.private_key_pem, [...path, 'private_key_pem']);
  if (!certificate || !privateKey) return undefined;
  const problem = certificateProblem(certificate, privateKey);
  if (problem) {
    context.report([...path, problem.key], problem.message);
    return undefined;
  }
  return { kind: 'custom', certificate, privateKey };
}

/**
 * Why a certificate and key from secrets cannot serve HTTPS, or undefined when they can. The
 * message names the secrets and never quotes their values (node's own parse errors are not
 * passed on: they could echo part of the input).
 */
export function certificateProblem(certificate: Secret, privateKey: Secret, now: Date = new Date()): { key: 'certificate_pem' | 'private_key_pem'; message: string } | undefined {
  let x509: X509Certificate;
  try {
    if (!certificate.reveal().includes('-----BEGIN CERTIFICATE-----')) throw new Error('not PEM');
    x509 = new X509Certificate(certificate.reveal());
  } catch {
    return { key: 'certificate_pem', message: `secret ${certificate.name} does not hold a PEM certificate that parses (expected -----BEGIN CERTIFICATE----- …)` };
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(privateKey.reveal())) throw new Error('not PEM');
    key = createPrivateKey(privateKey.reveal());
  } catch {
    return { key: 'private_key_pem', message: `secret ${privateKey.name} does not hold an unencrypted PEM private key that parses (expected -----BEGIN PRIVATE KEY----- …)` };
  }
  if (!x509.checkPrivateKey(key)) return { key: 'private_key_pem', message: `the private key in secret ${privateKey.name} does not belong to the certificate in secret ${certificate.name}` };
  if (new Date(x509.validTo).getTime() < now.getTime()) return { key: 'certificate_pem', message: `the certificate in secret ${certificate.name} expired on ${new Date(x509.validTo).toISOString().slice(0, 10)}` };
  return undefined;
}

/**
 * Two routed roles on one server that claim the same host (or both any host) and path: Traefik
 * would pick one by rule length, so the other would silently get nothing. Reported at the later role.
 */
export function proxyConflicts(roles: readonly Role[], rolePath: (role: string) => KeyPath, report: (path: KeyPath, message: string) => void): void {
  const routed = roles.filter((role) => role.traefik.enabled && role.proxy);
  acmeOnOneServer(routed, rolePath, report);
  for (const [index, role] of routed.entries()) {
    for (const earlier of routed.slice(0, index)) {
      const shared = role.hosts.find((host) => earlier.hosts.includes(host));
      if (shared === undefined) continue;
      const claim = claimed(role.proxy!).find((route) => claimed(earlier.proxy!).includes(route));
      if (claim === undefined) continue;
      const [host, path] = claim.split(' ');
      report([...rolePath(role.name), 'proxy'], `roles ${earlier.name} and ${role.name} both route ${host === '*' ? 'every host' : `host ${host}`} path ${path} on ${shared}: give one of them another host or path_prefix`);
      break;
    }
  }
}

/**
 * Kamal's rule for `ssl: true`: a host name gets its Let's Encrypt certificate on one server only.
 * Each server's Traefik keeps its own acme.json and answers only its own HTTP-01 challenges, while
 * the CA's validation request goes wherever DNS points; with the name on two servers, issuing and
 * every renewal fail whenever it lands on the other one. Certificates from secrets have no such limit.
 */
function acmeOnOneServer(routed: readonly Role[], rolePath: (role: string) => KeyPath, report: (path: KeyPath, message: string) => void): void {
  const acme = routed.filter((role) => role.proxy!.ssl?.kind === 'acme');
  const alternative = 'use one server per name, or a certificate from secrets (ssl: {certificate_pem, private_key_pem}), which any number of servers can serve';
  for (const [index, role] of acme.entries()) {
    if (role.hosts.length > 1) {
      report([...rolePath(role.name), 'proxy'], `ssl: true serves role ${role.name} from ${role.hosts.length} servers (${role.hosts.join(', ')}): each server's Traefik orders its own Let's Encrypt certificate, and the HTTP-01 challenge reaches only the server DNS answers with, so issuing and renewing fail on the others (Kamal's rule: one server); ${alternative}`);
      continue;
    }
    for (const earlier of acme.slice(0, index)) {
      if (earlier.hosts.length !== 1 || earlier.hosts[0] === role.hosts[0]) continue;
      const name = role.proxy!.hosts.find((host) => earlier.proxy!.hosts.includes(host));
      if (name === undefined) continue;
      report([...rolePath(role.name), 'proxy'], `roles ${earlier.name} (${earlier.hosts[0]}) and ${role.name} (${role.hosts[0]}) both get a Let's Encrypt certificate for ${name} on different servers: the HTTP-01 challenge reaches only one of them; ${alternative}`);
      break;
    }
  }
}

function claimed(proxy: ProxyConfig): string[] {
  const hosts = proxy.hosts.length > 0 ? proxy.hosts : ['*'];
  const paths = proxy.pathPrefixes.length > 0 ? proxy.pathPrefixes : ['/'];
  return hosts.flatMap((host) => paths.map((path) => `${host} ${path}`));
}
