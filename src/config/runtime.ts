// `runtime`: the container runtime each host is asked to run (docker, podman, or auto: whatever
// the host has). mrsk's own key (Kamal has none). A host runs one runtime, so every host gets
// exactly one wish, by precedence: its tags (runtime.tags), else its roles
// (servers.<role>.runtime), else the top level's default. Wishes that disagree at the level that
// decides are refused, naming both places: guessing would put half of a host's containers on a
// runtime the other half cannot see.
import type { RuntimeWish } from '../runtime/runtime.ts';
import type { KeyPath } from './source.ts';
import type { Config, Role } from './types.ts';

/** The runtime when the file does not say: Docker, as mrsk has always run. */
export const DEFAULT_RUNTIME: RuntimeWish = 'docker';

/** What the configuration asks of a host: its own wish, else the top level's. */
export function runtimeWishOf(config: Config, host: string): RuntimeWish {
  // Own keys only: a host may be called `constructor`.
  return Object.hasOwn(config.hostRuntimes, host) ? config.hostRuntimes[host]! : config.runtime;
}

/** The runtime part of Config. */
export interface RuntimeSettings {
  readonly runtime: RuntimeWish;
  readonly hostRuntimes: Record<string, RuntimeWish>;
}

// The schema has checked the shape; this module only reads it.
type Raw = Record<string, any>;

/** A wish and the key path that made it (for messages naming both sides of a conflict). */
interface Placed {
  readonly wish: RuntimeWish;
  readonly at: string;
}

/**
 * The wish of each of `hosts` (every host of the config, role and accessory hosts, in the order
 * to show them): role hosts by tag, role and default; hosts that only run accessories get the
 * default (accessories have no runtime key). `roles` are the normalized roles in file order;
 * `raw` the schema-valid file, read for runtime keys and for where each host entry is written.
 */
export function hostRuntimes(raw: Raw, roles: readonly Role[], hosts: readonly string[], report: (path: KeyPath, message: string, atKey?: boolean) => void): RuntimeSettings {
  const top = raw.runtime as RuntimeWish | { default?: RuntimeWish; tags?: Record<string, RuntimeWish> } | undefined;
  const runtime: RuntimeWish = typeof top === 'string' ? top : (top?.default ?? DEFAULT_RUNTIME);
  const tagWishes: Record<string, RuntimeWish> = typeof top === 'object' ? { ...(top.tags ?? {}) } : {};

  const listForm = Array.isArray(raw.servers);
  const rolePath = (name: string): KeyPath => (listForm ? ['servers'] : ['servers', name]);
  const hostsPath = (name: string): KeyPath => (listForm || Array.isArray((raw.servers as Raw)[name]) ? rolePath(name) : [...rolePath(name), 'hosts']);
  const roleWish = (name: string): RuntimeWish | undefined => {
    const spec = listForm ? undefined : (raw.servers as Raw)[name];
    return spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? (spec.runtime as RuntimeWish | undefined) : undefined;
  };

  // Per host, the first wish seen at each level; a later different one is a conflict.
  const byTag = new Map<string, Placed & { readonly tag: string }>();
  const byRole = new Map<string, Placed & { readonly role: string }>();
  const reported = new Set<string>();
  const once = (key: string, path: KeyPath, message: string) => {
    if (reported.has(key)) return;
    reported.add(key);
    report(path, message);
  };
  const carried = new Set<string>();

  // Tags first: where they decide, the roles' wishes do not matter.
  for (const role of roles) {
    role.hosts.forEach((host, index) => {
      for (const tag of role.hostTags && Object.hasOwn(role.hostTags, host) ? role.hostTags[host]! : []) {
        carried.add(tag);
        if (!Object.hasOwn(tagWishes, tag)) continue;
        const wish = tagWishes[tag]!;
        const first = byTag.get(host);
        if (!first) byTag.set(host, { wish, at: `runtime.tags.${tag}`, tag });
        else if (first.wish !== wish) {
          once(
            `tag\u0000${host}\u0000${first.tag}\u0000${tag}`,
            [...hostsPath(role.name), index],
            `host ${host} carries tags "${first.tag}" and "${tag}", which ask different runtimes (${first.at}: ${first.wish}, runtime.tags.${tag}: ${wish}); a host runs one runtime: drop one of the tags from the host, or give both tags the same runtime`,
          );
        }
      }
    });
  }
  for (const tag of Object.keys(tagWishes)) {
    if (!carried.has(tag)) report(['runtime', 'tags', tag], `no host of any role carries tag "${tag}", so this runtime would apply to no host (tag hosts in servers: - 10.0.0.1: ${tag})`, true);
  }

  // Roles that name a runtime, in file order; a role without the key takes no side.
  const conflicts = new Map<string, { first: Placed & { role: string }; role: string; wish: RuntimeWish; shared: string[] }>();
  for (const role of roles) {
    const wish = roleWish(role.name);
    if (wish === undefined) continue;
    for (const host of role.hosts) {
      if (byTag.has(host)) continue;
      const first = byRole.get(host);
      if (!first) byRole.set(host, { wish, at: `servers.${role.name}.runtime`, role: role.name });
      else if (first.wish !== wish) {
        // One message per pair of roles, listing the hosts they share.
        const key = `${first.role}\u0000${role.name}`;
        const conflict = conflicts.get(key) ?? { first, role: role.name, wish, shared: [] as string[] };
        conflict.shared.push(host);
        conflicts.set(key, conflict);
      }
    }
  }
  for (const { first, role, wish, shared } of conflicts.values()) {
    const which = shared.length === 1 ? `host ${shared[0]} is` : `hosts ${shared.join(', ')} are`;
    report(
      [...rolePath(role), 'runtime'],
      `${which} in roles ${first.role} and ${role}, which ask different runtimes (${first.at}: ${first.wish}, servers.${role}.runtime: ${wish}); a host runs one runtime: give both roles the same runtime, or tag the host and set its runtime in runtime.tags`,
    );
  }

  const out: Record<string, RuntimeWish> = {};
  for (const host of hosts) {
    if (!Object.hasOwn(out, host)) out[host] = byTag.get(host)?.wish ?? byRole.get(host)?.wish ?? runtime;
  }
  return { runtime, hostRuntimes: out };
}
