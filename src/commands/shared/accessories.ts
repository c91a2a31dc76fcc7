// What the `mrsk accessory` verbs share: which accessories a NAME|all argument means, on which of
// their hosts the command acts (-h/-r/-p narrow an accessory's own hosts, which need not carry a
// role), and the session they run in. An accessory's hosts come from its own `host`/`hosts`/
// `roles`, so the app's host selection (src/config/select.ts: role hosts only) cannot pick them.
import type { CommandContext } from '../../cli/context.ts';
import type { AccessoryConfig, Config, RegistryConfig } from '../../config/types.ts';
import { compileFilter, type HostFilter } from '../../config/select.ts';
import * as runtime from '../../runtime/index.ts';
import { resolveRuntime, run } from '../../apply/remote.ts';
import { UsageError } from '../../errors.ts';
import { runPerHost, type HostOutcome } from '../../ops/hosts.ts';
import { parsePsLines, type PsEntry } from '../../ops/docker-ps.ts';
import { formatPsTable } from '../../views/containers.ts';
import type { Session } from './common.ts';
import { printSections } from './per-host.ts';
import { withSession } from './session.ts';

/** The word that means every accessory of the config. */
export const ALL_ACCESSORIES = 'all';

/** One accessory a command acts on, and the selected hosts it runs on (config order). */
export interface AccessoryTarget {
  readonly accessory: AccessoryConfig;
  readonly hosts: readonly string[];
}

/** `redis, db` or `none`: the configured names, for a message. */
function knownNames(config: Config): string {
  return config.accessories.length === 0 ? 'none are configured' : `configured: ${config.accessories.map((a) => a.name).join(', ')}; or ${ALL_ACCESSORIES}`;
}

/**
 * The accessories NAME means: the one of that name, or every one for `all`. An unknown name or a
 * config without accessories is a usage error (exit 64) naming what there is.
 */
export function resolveAccessories(config: Config, name: string): AccessoryConfig[] {
  if (config.accessories.length === 0) {
    throw new UsageError(`${config.file || 'the config'} has no accessories: add them under accessories: (see docs/configuration.md)`);
  }
  if (name === ALL_ACCESSORIES) return [...config.accessories];
  const found = config.accessories.find((a) => a.name === name);
  if (!found) throw new UsageError(`unknown accessory "${name}" (${knownNames(config)})`);
  return [found];
}

/**
 * The hosts each accessory runs on, narrowed by -h/--hosts, -r/--roles (the hosts of those roles)
 * and -p/--primary (the primary host). A filter that leaves no host at all is a usage error naming
 * the accessories' hosts, so a typo never acts on nothing; an accessory the filter leaves without
 * hosts is left out (`-h db-1 accessory boot all` boots what runs on db-1).
 */
export function selectAccessoryHosts(config: Config, accessories: readonly AccessoryConfig[], filter: HostFilter): AccessoryTarget[] {
  let keep = (_host: string) => true;
  const narrow = (test: (host: string) => boolean) => {
    const before = keep;
    keep = (host) => before(host) && test(host);
  };
  if (filter.roles !== undefined) {
    const matchers = compileFilter(filter.roles);
    const roles = config.roles.filter((role) => matchers.some((m) => m.test(role.name)));
    if (roles.length === 0) throw new UsageError(`no role matches --roles "${filter.roles}" (roles: ${config.roles.map((r) => r.name).join(', ')})`);
    narrow((host) => roles.some((role) => role.hosts.includes(host)));
  }
  if (filter.hosts !== undefined) {
    const matchers = compileFilter(filter.hosts);
    narrow((host) => matchers.some((m) => m.test(host)));
  }
  if (filter.primary) narrow((host) => host === config.primaryHost);
  const targets = accessories.map((accessory) => ({ accessory, hosts: accessory.hosts.filter(keep) }));
  if (targets.every((t) => t.hosts.length === 0)) {
    const all = [...new Set(accessories.flatMap((a) => a.hosts))];
    const names = accessories.map((a) => a.name).join(', ');
    const asked = [
      filter.hosts !== undefined ? `--hosts "${filter.hosts}"` : '',
      filter.roles !== undefined ? `--roles "${filter.roles}"` : '',
      filter.primary ? `--primary (${config.primaryHost})` : '',
    ].filter(Boolean);
    throw new UsageError(`no host of ${names} matches ${asked.join(' and ')} (${names} ${accessories.length === 1 ? 'runs' : 'run'} on ${all.join(', ') || 'no host'})`);
  }
  return targets.filter((t) => t.hosts.length > 0);
}

/** Every host of the targets, each once, in the order they appear. */
export function targetHosts(targets: readonly AccessoryTarget[]): string[] {
  return [...new Set(targets.flatMap((t) => t.hosts))];
}

/**
 * Runs fn in a session whose host selection is the accessories' (not the app's roles): the
 * targets NAME and the -h/-r/-p filters select, checked before any connection.
 */
export async function withAccessories<T>(ctx: CommandContext, name: string, fn: (session: Session, targets: AccessoryTarget[]) => Promise<T>): Promise<T> {
  const { hosts, roles, primary } = ctx.global;
  // the session's own selection would refuse a host that carries no role (a database server)
  const unfiltered: CommandContext = { ...ctx, global: { ...ctx.global, hosts: undefined, roles: undefined, primary: undefined } };
  return withSession(unfiltered, async (session) => {
    const targets = selectAccessoryHosts(session.config, resolveAccessories(session.config, name), { hosts, roles, primary });
    return fn(session, targets);
  });
}

/** The accessory's container name: its `service:` when set, else `<service>-<name>` as Kamal names it. */
export function accessoryContainerName(config: Config, accessory: AccessoryConfig): string {
  return accessory.service ?? `${config.service}-${accessory.name}`;
}

/**
 * The registries to log the hosts in to before pulling the accessories' images: an accessory's
 * own registry with a login, or the app's when the image lives there (a private build of Postgres);
 * an image pulled as written from a public registry needs none. Each server once.
 */
export function accessoryLogins(config: Config, accessories: readonly AccessoryConfig[]): RegistryConfig[] {
  const logins = new Map<string, RegistryConfig>();
  for (const accessory of accessories) {
    const own = accessory.registry;
    const app = config.registry;
    const login = own ? own : app.server && accessory.image.startsWith(`${app.server}/`) ? app : undefined;
    if (login?.username && login.password) logins.set(login.server ?? '', login);
  }
  return [...logins.values()];
}

/**
 * `accessory details` per host: the targets' containers there, running or not, as data for --json
 * and as printed sections. A host without one says how to get it.
 */
export async function accessoryDetails(ctx: CommandContext, session: Session, targets: readonly AccessoryTarget[], json: boolean): Promise<HostOutcome<PsEntry[]>[]> {
  return runPerHost<PsEntry[]>(
    targetHosts(targets),
    async (host) => {
      const mine = targets.filter((t) => t.hosts.includes(host));
      const names = mine.map((t) => accessoryContainerName(session.config, t.accessory));
      const result = await run(session.remote, host, runtime.listContainers(await resolveRuntime(session.remote, host), { name: names.map((n) => `^${n}$`) }, { all: true }));
      // the filter is a regular expression (a `.` in a name matches any character): keep exactly these names
      const entries = parsePsLines(result.stdout).filter((e) => names.includes(e.names));
      const missing = mine.filter((t) => !entries.some((e) => e.names === accessoryContainerName(session.config, t.accessory))).map((t) => t.accessory.name);
      const hint = missing.length > 0 ? `no ${missing.join(', ')} container here (\`mrsk accessory boot ${missing.length === 1 ? missing[0] : 'all'}\` runs it)\n` : '';
      return { host, ok: true, output: `${entries.length > 0 ? formatPsTable(entries, ctx.out.width) : ''}${hint}`, data: entries };
    },
    json ? () => undefined : printSections(ctx, 'Accessory'),
  );
}
