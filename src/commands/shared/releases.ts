// `mrsk rollback <version|release id>`: which release that names, read from the hosts' release
// ledgers, and the desired state that brings it back (src/desired/from-release.ts): what the
// release ran on each host, with today's secret values.
import type { CommandContext } from '../../cli/context.ts';
import { describeNote, desiredFromRelease, releaseOnEachHost } from '../../desired/from-release.ts';
import type { Desired } from '../../desired/types.ts';
import { readLedgerScript } from '../../host/ledger.ts';
import { findRelease, parseLedger } from '../../drift/ledger.ts';
import { UsageError } from '../../errors.ts';
import { shortVersion } from '../../plan/short-version.ts';
import type { ReleaseRecord } from '../../probe/types.ts';
import type { Session } from './common.ts';

/** Release ids look like `20261126T041502-v2` (UTC time of the apply, then the version). */
export const RELEASE_ID_PATTERN = /^\d{8}T\d{6}-.+$/;

/** What `mrsk rollback` was asked for, with every selected host's ledger. */
export interface RollbackTarget {
  /** The version, or what names it (a prefix is resolved against the retained containers). */
  readonly requested: string;
  /** The release when a release id was given. */
  readonly release?: ReleaseRecord;
  /** host → its ledger's releases; a host whose ledger could not be read is absent. */
  readonly ledgers: Readonly<Record<string, readonly ReleaseRecord[]>>;
}

/** Reads the ledgers of the selected hosts; a host that cannot be read is named in a warning. */
async function readLedgers(ctx: CommandContext, session: Session): Promise<Record<string, readonly ReleaseRecord[]>> {
  const { script } = readLedgerScript(session.config);
  const read = await Promise.all(
    session.hosts.map(async (host) => {
      const result = await session.runner.exec(host, { script }, { signal: ctx.signal }).catch(() => undefined);
      return [host, result?.code === 0 ? parseLedger(result.stdout).releases : undefined] as const;
    }),
  );
  const unread = read.filter(([, releases]) => !releases).map(([host]) => host);
  if (unread.length > 0) ctx.out.warn(`the release ledger could not be read on ${unread.join(', ')}`);
  return Object.fromEntries(read.filter((entry): entry is readonly [string, readonly ReleaseRecord[]] => entry[1] !== undefined));
}

/** The version or release id a rollback names, and the ledgers to restore it from. */
export async function rollbackTarget(ctx: CommandContext, session: Session, versionOrId: string): Promise<RollbackTarget> {
  const ledgers = await readLedgers(ctx, session);
  if (!RELEASE_ID_PATTERN.test(versionOrId)) return { requested: versionOrId, ledgers };
  const release = findRelease(Object.values(ledgers).map((releases) => ({ releases, unreadable: [] })), versionOrId);
  if (!release) throw new UsageError(`release ${versionOrId} is in no ledger of the selected hosts; \`mrsk releases\` lists them`);
  ctx.out.info(`Release ${shortVersion(release.id)}: version ${shortVersion(release.version)}, applied ${release.appliedAt} by ${release.appliedBy}`);
  return { requested: release.version, release, ledgers };
}

/**
 * The desired state of a rollback to `version`: on each host, what its record of the release (the
 * one given, else the newest of that version) says it ran. Each difference from the release or
 * the config is said as a warning. The session it returns also selects the roles the release ran
 * that the config no longer has, unless --roles/--primary chose roles.
 */
export function restoreRelease(
  ctx: CommandContext,
  session: Session,
  target: RollbackTarget,
  version: string,
  options: { readonly restoreTraefik?: boolean } = {},
): { desired: Desired; session: Session } {
  const releases = releaseOnEachHost(target.ledgers, { version, ...(target.release ? { anchor: target.release } : {}) });
  const { desired, notes } = desiredFromRelease({ config: session.config, version, releases, traefik: options.restoreTraefik ? 'restore' : 'keep' });
  const name = target.release ? shortVersion(target.release.id) : shortVersion(version);
  // hosts that are not selected are not changed: their notes would only confuse
  for (const note of notes) {
    const hosts = note.hosts.filter((host) => session.hosts.includes(host));
    if (hosts.length > 0) ctx.out.warn(describeNote({ ...note, hosts }, name));
  }
  if (ctx.global.roles !== undefined || ctx.global.primary) return { desired, session };
  const selected = new Set(session.hosts);
  const configRoles = new Set(session.config.roles.map((role) => role.name));
  const restoredRoles = Object.values(desired.hosts)
    .filter((host) => selected.has(host.host))
    .flatMap((host) => host.containers.map((spec) => spec.role))
    .filter((role) => !configRoles.has(role));
  return { desired, session: { ...session, roles: [...new Set([...session.roles, ...restoredRoles])] } };
}
