// Consent for taking over hosts that Kamal runs (docs/configuration.md, "Coming from Kamal").
// Kamal's app containers are replaced start-first with no outage, but Kamal's `traefik` holds
// port 80 and routes by labels mrsk's Traefik does not read, so replacing it is stop-first and
// HTTP on the host fails for a few seconds. A command that would do that on its own (deploy runs
// without asking) stops before anything changes unless --takeover says to go ahead.
import { UsageError } from '../../errors.ts';
import { isKamalHost, isUnmanagedTraefik } from '../../probe/kamal.ts';
import type { Snapshot } from '../../probe/types.ts';

/** The hosts among `hosts` where a change would replace Kamal's Traefik. */
export function kamalTraefikHosts(snapshot: Snapshot, hosts: readonly string[], service: string, destination: string | undefined): string[] {
  return hosts.filter((host) => {
    const observed = snapshot.hosts[host];
    if (!observed || observed.status !== 'ok') return false;
    return (
      isKamalHost(observed.containers, service, destination) &&
      observed.containers.some((c) => isUnmanagedTraefik(c) && c.state !== 'removing')
    );
  });
}

/** Stops the command (exit 64, nothing changed) when it would take over Kamal's Traefik without --takeover. */
export function requireTakeoverConsent(
  snapshot: Snapshot,
  hosts: readonly string[],
  service: string,
  destination: string | undefined,
  takeover: boolean | undefined,
  command = 'mrsk deploy',
): void {
  if (takeover) return;
  const kamalHosts = kamalTraefikHosts(snapshot, hosts, service, destination);
  if (kamalHosts.length === 0) return;
  const them = kamalHosts.length === 1 ? 'it' : 'them';
  throw new UsageError(
    `Kamal runs ${service} on ${kamalHosts.join(', ')}: taking ${them} over replaces Kamal's traefik stop-first, so HTTP on ${them} ` +
      `fails for a few seconds, until mrsk's containers are routed (Kamal's app containers keep serving until then and are stopped after). ` +
      `Nothing was changed. \`mrsk plan\` shows each step; run \`${command} --takeover\` to do it (docs/configuration.md, "Coming from Kamal").`,
  );
}
