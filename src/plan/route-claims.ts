// Another app on the host already routing a host name and path this app wants: Traefik would
// pick one of the two routers by priority and the other app would silently lose its traffic (or
// take this app's). Config loading catches two roles of one app (config/proxy.ts proxyConflicts);
// across apps only the host knows, so the planner asks Traefik's live routers, which the probe
// reads from Traefik's API in the same round trip (no other app's labels or files are read).
//
// Only named hosts are compared: a route without a host is the host's catch-all, below every
// named one (proxy-routing.ts priorities), and files without `proxy:` have always shared it.
import type { TraefikRouterState } from '../probe/types.ts';

const ROUTER_RULE_LABEL = /^traefik\.http\.routers\.([^.]+)\.rule$/;

/** The router names a set of container labels declares. */
export function routerNamesOf(labels: Readonly<Record<string, string>>): string[] {
  return Object.keys(labels).flatMap((key) => ROUTER_RULE_LABEL.exec(key)?.[1] ?? []);
}

/**
 * What a Traefik rule claims, as `host path` pairs, for rules that name hosts: mrsk writes
 * `Host(…) || …` optionally `&& (Path(`/p`) || PathPrefix(`/p/`) …)`; without a Path the claim
 * is `/`. Undefined for a rule without a Host (not compared, see above).
 */
export function ruleClaims(rule: string): string[] | undefined {
  const hosts = [...rule.matchAll(/\bHost\(`([^`]+)`\)/g)].map((match) => match[1]!.toLowerCase());
  if (hosts.length === 0) return undefined;
  const found = [...rule.matchAll(/\bPath\(`([^`]+)`\)/g)].map((match) => match[1]!);
  const paths = found.length > 0 ? found : ['/'];
  return hosts.flatMap((host) => paths.map((path) => `${host} ${path}`));
}

/**
 * Why this app cannot route here, or undefined: the first of its rules (`own`: router name → rule)
 * whose host and path a live router of another app (not in `ownRouters`) claims too. `otherApps`
 * (the probe's names of the host's other apps) lets the message name the app, not just the router.
 */
export function foreignRouteConflict(
  service: string,
  own: Readonly<Record<string, string>>,
  ownRouters: ReadonlySet<string>,
  live: Readonly<Record<string, TraefikRouterState>> | undefined,
  otherApps: readonly string[] = [],
): string | undefined {
  if (!live) return undefined;
  // Docker-provider routers only: their names lost `@docker` in the probe; @file/@internal keep theirs.
  const foreign = Object.entries(live).filter(([name]) => !name.includes('@') && !ownRouters.has(name));
  for (const [router, rule] of Object.entries(own).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const claims = ruleClaims(rule);
    if (!claims) continue;
    for (const [name, state] of foreign) {
      const shared = claims.find((claim) => ruleClaims(state.rule)?.includes(claim));
      if (shared === undefined) continue;
      const [host, path] = shared.split(' ');
      const app = appOfRouter(name, otherApps);
      const owner = app ? `app ${app} (router ${name})` : `router ${name}, which is not ${service}'s`;
      return `host ${host} path ${path} is already routed on this host by ${owner}; ${service}'s router ${router} claims it too, and Traefik would send its requests to only one of them: give ${service} another host or path_prefix, or remove the other route first`;
    }
  }
  return undefined;
}

/** The app a router belongs to: the longest `<service>-` prefix of its name among the host's other apps (`service/destination` names). */
function appOfRouter(router: string, apps: readonly string[]): string | undefined {
  const owners = apps.filter((app) => router.startsWith(`${app.split('/')[0]}-`));
  return owners.sort((a, b) => b.length - a.length)[0];
}
