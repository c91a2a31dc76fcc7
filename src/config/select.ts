// Host and role selection from the CLI's --hosts / --roles / --primary filters.
import { UsageError } from '../errors.ts';
import type { Config, Role } from './types.ts';

/** The CLI filters: comma lists with `*` wildcards. */
export interface HostFilter {
  readonly hosts?: string;
  readonly roles?: string;
  readonly primary?: boolean;
}

/** The selection: hosts in config order, and the roles that have a selected host (their hosts narrowed to the selection). */
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
 * Applies the filters to a config. A filter that matches nothing is a UsageError naming what
 * is known, so a typo never silently selects nothing (or everything).
 */
export function selectHosts(config: Config, filter: HostFilter): Selection {
  let roles = [...config.roles];
  if (filter.roles !== undefined) {
    const matchers = compileFilter(filter.roles);
    roles = roles.filter((role) => matchers.some((m) => m.test(role.name)));
    if (roles.length === 0) throw new UsageError(`no role matches --roles "${filter.roles}" (roles: ${config.roles.map((r) => r.name).join(', ')})`);
  }
  let hosts = config.hosts.filter((host) => roles.some((role) => role.hosts.includes(host)));
  if (filter.hosts !== undefined) {
    const matchers = compileFilter(filter.hosts);
    const matching = config.hosts.filter((host) => matchers.some((m) => m.test(host)));
    if (matching.length === 0) throw new UsageError(`no host matches --hosts "${filter.hosts}" (hosts: ${config.hosts.join(', ')})`);
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
