// Kamal 2's `proxy:` settings of a routed role as Traefik sees them: the router, service and
// middleware labels on the app's containers, and the per-app file in Traefik's file-provider
// folder for what labels cannot carry (servers transports, certificates from secrets).
//
// Decisions:
// - Every name (routers, middlewares, transport) starts with the role key <service>-<role>[-<dest>],
//   so two apps on one host never define the same Traefik object.
// - Traefik's own container is the same whichever app starts it: entrypoints web (:80) and
//   websecure (:443), the file provider folder and the one ACME resolver `letsencrypt` (storage on
//   a host folder, so a certificate survives a Traefik replacement) are always there. An app asks
//   for a certificate through its router's tls.certresolver label; a resolver nobody references
//   does nothing. The ACME e-mail (proxy.acme_email) is a Traefik argument and so shared by every
//   app on the host, like traefik.image: apps sharing a host give the same one (or none).
// - Priorities: a router naming hosts outranks every router that does not (Kamal: requests for a
//   named host go to its app; the rest to the app without hosts), then the longer rule wins (a
//   longer path prefix). Routers of files without `proxy:` keep Traefik's default (rule length),
//   which is below both tiers.
// - A path prefix matches the path itself and what lies below it (`/api`, `/api/…`, not `/apix`).
import { stringify } from 'yaml';
import type { Config, ProxyConfig, Role } from '../config/types.ts';
import { MRSK_NETWORK, roleKey, traefikFileName } from '../model/names.ts';
import { TRAEFIK_ENABLE_LABEL, TRAEFIK_NETWORK_LABEL, traefikServicePortLabel } from '../model/labels.ts';
import { canonicalJson, hmacHex, sha256Hex } from './canonical.ts';
import { secretDigestKey } from './spec-hash.ts';
import type { TraefikFileSpec } from './types.ts';

/** The certificate resolver every app with `ssl: true` names. */
export const ACME_RESOLVER = 'letsencrypt';
/** Home-relative host folder of Traefik's state, shared by every app on the host. */
export const TRAEFIK_HOST_DIR = '.mrsk/traefik';
/** ACME account and certificates (acme.json, written 0600 by Traefik): survives Traefik replacements. */
export const TRAEFIK_ACME_HOST_DIR = `${TRAEFIK_HOST_DIR}/acme`;
export const TRAEFIK_ACME_DIR = '/etc/traefik/acme';
/** The file provider's folder: one `<service>[-<dest>].yml` per app, each written only by its app. */
export const TRAEFIK_DYNAMIC_HOST_DIR = `${TRAEFIK_HOST_DIR}/dynamic`;
export const TRAEFIK_DYNAMIC_DIR = '/etc/traefik/dynamic';
/** Traefik's default HTTPS port when proxy.run.https_port is not given. */
export const DEFAULT_HTTPS_PORT = 443;

/** The host folders Traefik mounts (home-relative sources, resolved on the host when it starts). */
export const TRAEFIK_STATE_VOLUMES: readonly string[] = [`${TRAEFIK_ACME_HOST_DIR}:${TRAEFIK_ACME_DIR}`, `${TRAEFIK_DYNAMIC_HOST_DIR}:${TRAEFIK_DYNAMIC_DIR}:ro`];

/** Traefik's arguments for HTTPS, the file provider and the ACME resolver: the same for every app. */
export function proxyStaticArgs(acmeEmail?: string): Record<string, string> {
  return {
    'entrypoints.websecure.address': ':443',
    'providers.file.directory': TRAEFIK_DYNAMIC_DIR,
    'providers.file.watch': 'true',
    [`certificatesresolvers.${ACME_RESOLVER}.acme.storage`]: `${TRAEFIK_ACME_DIR}/acme.json`,
    [`certificatesresolvers.${ACME_RESOLVER}.acme.httpchallenge.entrypoint`]: 'web',
    ...(acmeEmail !== undefined ? { [`certificatesresolvers.${ACME_RESOLVER}.acme.email`]: acmeEmail } : {}),
  };
}

/** The Traefik rule of a role's route: its hosts and path prefixes. */
export function routeRule(proxy: ProxyConfig): string {
  const hosts = proxy.hosts.map((host) => `Host(\`${host}\`)`).join(' || ');
  const paths = proxy.pathPrefixes.map((prefix) => `Path(\`${prefix}\`) || PathPrefix(\`${prefix}/\`)`).join(' || ');
  if (hosts && paths) return `(${hosts}) && (${paths})`;
  return hosts || paths || 'PathPrefix(`/`)';
}

/** The router priority: hosts first, then the longer rule (see the decisions above). */
export function routePriority(proxy: ProxyConfig): number {
  return (proxy.hosts.length > 0 ? 20000 : 10000) + routeRule(proxy).length;
}

/** The traefik.* labels of a routed role under `proxy:`: identical for every version, so old and new share the routers. */
export function proxyLabels(config: Config, role: Role, proxy: ProxyConfig): Record<string, string> {
  const key = roleKey(config.service, role.name, config.destination);
  const router = (name: string) => `traefik.http.routers.${name}`;
  const middleware = (name: string) => `traefik.http.middlewares.${key}-${name}`;
  const rule = routeRule(proxy);
  const priority = String(routePriority(proxy));
  const labels: Record<string, string> = {
    [TRAEFIK_ENABLE_LABEL]: 'true',
    [TRAEFIK_NETWORK_LABEL]: MRSK_NETWORK,
    [traefikServicePortLabel(key)]: String(proxy.appPort),
    [`${middleware('retry')}.retry.attempts`]: '5',
    [`${middleware('retry')}.retry.initialinterval`]: '500ms',
  };
  if (proxy.responseTimeout !== undefined) labels[`traefik.http.services.${key}.loadbalancer.serverstransport`] = `${key}@file`;
  const chain = [`${key}-retry@docker`];
  if (proxy.buffering) {
    labels[`${middleware('buffering')}.buffering.maxRequestBodyBytes`] = String(proxy.buffering.maxRequestBody);
    labels[`${middleware('buffering')}.buffering.memRequestBodyBytes`] = String(proxy.buffering.memory);
    labels[`${middleware('buffering')}.buffering.maxResponseBodyBytes`] = String(proxy.buffering.maxResponseBody);
    labels[`${middleware('buffering')}.buffering.memResponseBodyBytes`] = String(proxy.buffering.memory);
    chain.push(`${key}-buffering@docker`);
  }
  if (proxy.stripPathPrefix && proxy.pathPrefixes.length > 0) {
    labels[`${middleware('strip')}.stripprefix.prefixes`] = proxy.pathPrefixes.join(',');
    chain.push(`${key}-strip@docker`);
  }
  const route = (name: string, entrypoint: string, middlewares: readonly string[]) => {
    labels[`${router(name)}.rule`] = rule;
    labels[`${router(name)}.priority`] = priority;
    labels[`${router(name)}.entrypoints`] = entrypoint;
    labels[`${router(name)}.service`] = key;
    labels[`${router(name)}.middlewares`] = middlewares.join(',');
  };
  if (!proxy.ssl) {
    route(key, 'web', chain);
    return labels;
  }
  route(`${key}-secure`, 'websecure', chain);
  labels[`${router(`${key}-secure`)}.tls`] = 'true';
  if (proxy.ssl.kind === 'acme') labels[`${router(`${key}-secure`)}.tls.certresolver`] = ACME_RESOLVER;
  if (proxy.sslRedirect) {
    labels[`${middleware('redirect')}.redirectscheme.scheme`] = 'https';
    labels[`${middleware('redirect')}.redirectscheme.permanent`] = 'true';
    const httpsPort = config.traefik.httpsPort ?? DEFAULT_HTTPS_PORT;
    if (httpsPort !== DEFAULT_HTTPS_PORT) labels[`${middleware('redirect')}.redirectscheme.port`] = String(httpsPort);
    route(key, 'web', [`${key}-redirect@docker`]);
  } else route(key, 'web', chain);
  return labels;
}

// the name lives with the other names on a host (the probe reads the file too)
export { traefikFileName };

/**
 * The app's file on a host carrying `roles` (its routed roles there), or undefined when none of
 * them needs one (no response_timeout, no certificate from secrets).
 */
export function traefikFileFor(config: Config, roles: readonly Role[]): TraefikFileSpec | undefined {
  const transports: Record<string, { readonly responseHeaderTimeout: number }> = {};
  const certificates: TraefikFileSpec['certificates'][number][] = [];
  for (const role of roles) {
    const proxy = role.traefik.enabled ? role.proxy : undefined;
    if (!proxy) continue;
    if (proxy.responseTimeout !== undefined) transports[roleKey(config.service, role.name, config.destination)] = { responseHeaderTimeout: proxy.responseTimeout };
    const ssl = proxy.ssl;
    if (ssl?.kind === 'custom' && !certificates.some((known) => known.certificate === ssl.certificate && known.privateKey === ssl.privateKey)) {
      certificates.push({ certificate: ssl.certificate, privateKey: ssl.privateKey });
    }
  }
  if (Object.keys(transports).length === 0 && certificates.length === 0) return undefined;
  const name = traefikFileName(config.service, config.destination);
  return { name, transports, certificates, hash: traefikFileHash(config.service, config.destination, { name, transports, certificates }) };
}

/** The `v1:<sha256>` of a file's content; a saved plan checks the certificates it re-attaches with it. */
export function traefikFileHash(service: string, destination: string | undefined, file: Omit<TraefikFileSpec, 'hash'>): string {
  // Secret values enter the hash only as HMACs keyed per project, as in container spec hashes.
  const digestKey = secretDigestKey(service, destination);
  const hashed = {
    name: file.name,
    transports: file.transports,
    certificates: file.certificates.map((pair) => ({ certificate: hmacHex(digestKey, pair.certificate.reveal()), privateKey: hmacHex(digestKey, pair.privateKey.reveal()) })),
  };
  return `v1:${sha256Hex(canonicalJson(hashed))}`;
}

/** The first line of an app's file: how the probe reads which content is on the host without reading secrets. */
export function traefikFileHashLine(hash: string): string {
  return `# mrsk ${hash}`;
}

/** The hash a file's first line names, or undefined for a file mrsk did not write. */
export function traefikFileHashOf(firstLine: string): string | undefined {
  return /^# mrsk (v1:[0-9a-f]{64})\s*$/.exec(firstLine)?.[1];
}

/**
 * The file's text, certificate and key included: only the executor calls this, to upload it
 * (mode 0600); it never goes into a plan, a log or a message.
 */
export function renderTraefikFile(spec: TraefikFileSpec): string {
  const document: Record<string, unknown> = {};
  const transports = Object.keys(spec.transports).sort();
  if (transports.length > 0) {
    document.http = {
      serversTransports: Object.fromEntries(transports.map((name) => [name, { forwardingTimeouts: { responseHeaderTimeout: `${spec.transports[name]!.responseHeaderTimeout}s` } }])),
    };
  }
  if (spec.certificates.length > 0) {
    // Traefik takes the PEM text itself in certFile/keyFile: no separate files to keep in step.
    document.tls = { certificates: spec.certificates.map((pair) => ({ certFile: pair.certificate.reveal(), keyFile: pair.privateKey.reveal() })) };
  }
  return `${traefikFileHashLine(spec.hash)}\n# Written by mrsk for ${spec.name.replace(/\.yml$/, '')} on each deploy; edits are overwritten.\n${stringify(document, { lineWidth: 0 })}`;
}
