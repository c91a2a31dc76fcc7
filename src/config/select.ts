// Host and role selection from the CLI's --hosts / --roles / --primary filters.
import { UsageError } from '../errors.ts';
import type { Config, Role } from './types.ts';

/** The CLI filters: comma lists with `*` wildcards. */
export interface HostFilter {
  readonly hosts?: string;
  readonly roles?: string;
  readonly primary?: boolean;
}

/**
 * The selection: hosts in config order (the role hosts, then the hosts that run only accessories),
 * and the roles that have a selected host (their hosts narrowed to the selection).
 */
export interface Selection {
  readonly hosts: string[];
  readonly roles: Role[];
}

/** Compiles a comma list with `*` wildcards into matchers (whole-name, case-sensitive). */
export function compileFilter(list: string): RegExp[] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => new RegExp(`^${item.split('*').map(escapeRegExp).join('.*')}$`));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Hosts that run accessories and carry no role (a database server), in the order the config
 * names them. Nothing of the app runs there; they are probed and planned for their accessories.
 */
export function accessoryOnlyHosts(config: Config): string[] {
  const roleHosts = new Set(config.hosts);
  return [...new Set(config.accessories.flatMap((accessory) => accessory.hosts))].filter((host) => !roleHosts.has(host));
}

/** The hosts of `hosts` that carry one of `roles`: where the app itself runs (config order kept). */
export function hostsWithRoles(config: Config, hosts: readonly string[], roles: readonly string[]): string[] {
  const withRole = new Set(config.roles.filter((role) => roles.includes(role.name)).flatMap((role) => role.hosts));
  return hosts.filter((host) => withRole.has(host));
}

/**
 * Applies the filters to a config. Without --roles the hosts that run only accessories are
 * selected too (after the role hosts): apply, plan, setup, drift and remove reach them; --roles
 * names roles, which such a host has none of; --hosts selects any host the config names. A
 * filter that matches nothing is a UsageError naming what is known, so a typo never silently
 * selects nothing (or everything).
 */
export function selectHosts(config: Config, filter: HostFilter): Selection {
  const accessoryHosts = accessoryOnlyHosts(config);
  const allHosts = [...config.hosts, ...accessoryHosts];
  let roles = [...config.roles];
  if (filter.roles !== undefined) {
    const matchers = compileFilter(filter.roles);
    roles = roles.filter((role) => matchers.some((m) => m.test(role.name)));
    if (roles.length === 0) throw new UsageError(`no role matches --roles "${filter.roles}" (roles: ${config.roles.map((r) => r.name).join(', ')})`);
  }
  let hosts = config.hosts.filter((host) => roles.some((role) => role.hosts.includes(host)));
  if (filter.roles === undefined) hosts.push(...accessoryHosts);
  if (filter.hosts !== undefined) {
    const matchers = compileFilter(filter.hosts);
    const matching = allHosts.filter((host) => matchers.some((m) => m.test(host)));
    if (matching.length === 0) throw new UsageError(`no host matches --hosts "${filter.hosts}" (hosts: ${allHosts.join(', ')})`);
    hosts = hosts.filter((host) => matching.includes(host));
    if (hosts.length === 0) throw new UsageError(`no host matching --hosts "${filter.hosts}" is in roles ${roles.map((r) => r.name).join(', ')}`);
  }
  if (filter.primary) {
    if (!hosts.includes(config.primaryHost)) throw new UsageError(`the primary host ${config.primaryHost} is not among the selected hosts (${hosts.join(', ')})`);
    hosts = [config.primaryHost];
  }
  const selectedRoles = roles
    .filter((role) => role.hosts.some((host) => hosts.includes(host)))
    .map((role) => Object.freeze({ ...role, hosts: Object.freeze(role.hosts.filter((host) => hosts.includes(host))) }));
  return { hosts, roles: selectedRoles };
}
