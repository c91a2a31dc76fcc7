// Release ids given where a version is expected (`mrsk rollback <release id>`): which version
// they name, read from the hosts' release ledgers.
import type { CommandContext } from '../../cli/context.ts';
import { deriveDesired } from '../../desired/desired.ts';
import { readLedgerScript } from '../../host/ledger.ts';
import { findRelease, parseLedger, type Ledger } from '../../drift/ledger.ts';
import { UsageError } from '../../errors.ts';
import { shortVersion } from '../../plan/short-version.ts';
import type { Session } from '../common.ts';

/** Release ids look like `20261126T041502-v2` (UTC time of the apply, then the version). */
export const RELEASE_ID_PATTERN = /^\d{8}T\d{6}-.+$/;

/**
 * `mrsk rollback <release id>`: the version of that release, read from the hosts' ledgers. Warns
 * when the current config gives other specs than the release recorded (the ledger keeps hashes,
 * not the config, so the rollback uses the current config; secrets are read again as always).
 * Returns the argument unchanged when it is not a release id.
 */
export async function versionOfRelease(ctx: CommandContext, session: Session, versionOrId: string): Promise<string> {
  if (!RELEASE_ID_PATTERN.test(versionOrId)) return versionOrId;
  const { script } = readLedgerScript(session.config);
  const ledgers: Ledger[] = [];
  for (const host of session.hosts) {
    const result = await session.runner.exec(host, { script }, { signal: ctx.signal }).catch(() => undefined);
    if (result?.code === 0) ledgers.push(parseLedger(result.stdout));
  }
  const release = findRelease(ledgers, versionOrId);
  if (!release) throw new UsageError(`release ${versionOrId} is in no ledger of the selected hosts; \`mrsk releases\` lists them`);
  const state = deriveDesired(session.config, release.version);
  const changed = [...new Set(Object.values(state.hosts).flatMap((h) => h.containers))]
    .filter((spec) => release.specHashes[spec.role] !== undefined && release.specHashes[spec.role] !== spec.specHash)
    .map((spec) => spec.role);
  if (changed.length > 0) {
    ctx.out.warn(`the config changed since release ${release.id} for role(s) ${[...new Set(changed)].join(', ')}: rolling back to version ${release.version} with the current config`);
  }
  ctx.out.info(`Release ${shortVersion(release.id)}: version ${shortVersion(release.version)}, applied ${release.appliedAt} by ${release.appliedBy}`);
  return release.version;
}
