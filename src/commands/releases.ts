// mrsk releases: the release ledger of every selected host (id, version, when, who), newest
// first, the current one marked. Read-only. A host that cannot be read is named; exit 1 then.
import type { RegisterCommand } from '../cli/program.ts';
import { readLedgerScript } from '../host/ledger.ts';
import { neverHealthyFormat, parseLedger, parseNeverHealthy, type Ledger, type NeverHealthyContainer } from '../drift/ledger.ts';
import { listContainers } from '../runtime/index.ts';
import { resolveRuntime } from '../apply/remote.ts';
import { SERVICE_LABEL } from '../model/labels.ts';
import { parseRecordedDesired } from '../desired/from-release.ts';
import { requireHosts } from './shared/common.ts';
import { shortVersion } from '../plan/short-version.ts';
import { withSession } from './shared/session.ts';

interface ReleasesOptions {
  json?: boolean;
}

type HostLedger = { host: string; ok: true; ledger: Ledger; neverHealthy: NeverHealthyContainer[] } | { host: string; ok: false; error: string };

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

export const register: RegisterCommand = (program, bind) => {
  program
    .command('releases')
    .description('list the release ledger of each host: id, version, when, who (current marked *)')
    .option('--json', 'print the ledgers as JSON')
    .action(bind<ReleasesOptions>(async (ctx, options) => {
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const { script } = readLedgerScript(session.config);
        const ledgers: HostLedger[] = await Promise.all(
          session.hosts.map(async (host): Promise<HostLedger> => {
            try {
              const result = await session.runner.exec(host, { script }, { signal: ctx.signal });
              if (result.code !== 0) return { host, ok: false, error: `reading the ledger failed (exit ${result.code}): ${result.stderr.trim().split('\n').pop() ?? ''}` };
              // Versions that never became healthy here are named: they are no rollback target.
              const rt = await resolveRuntime(session.remote, host);
              const containers = await session.runner.exec(host, listContainers(rt, { label: `${SERVICE_LABEL}=${session.config.service}` }, { all: true, format: neverHealthyFormat(rt) }), { signal: ctx.signal });
              const neverHealthy = containers.code === 0 ? parseNeverHealthy(containers.stdout, session.config.destination) : [];
              return { host, ok: true, ledger: parseLedger(result.stdout), neverHealthy };
            } catch (error) {
              return { host, ok: false, error: (error as Error).message };
            }
          }),
        );
        if (options.json) {
          ctx.out.printJson({
            formatVersion: '1',
            service: session.config.service,
            ...(session.config.destination ? { destination: session.config.destination } : {}),
            hosts: ledgers.map((l) =>
              l.ok ? { host: l.host, currentId: l.ledger.currentId ?? null, releases: l.ledger.releases, neverHealthy: l.neverHealthy } : { host: l.host, error: l.error },
            ),
          });
        } else {
          for (const entry of ledgers) {
            if (!entry.ok) {
              ctx.out.print(`${entry.host}  NOT READ: ${entry.error}\n`);
              continue;
            }
            const { releases, currentId, unreadable } = entry.ledger;
            const lines = [`${entry.host}`];
            if (releases.length === 0) lines.push('  no releases recorded');
            else {
              const rows = [['', 'ID', 'VERSION', 'APPLIED AT', 'BY'], ...releases.map((r) => [r.id === currentId ? '*' : '', shortVersion(r.id), shortVersion(r.version), r.appliedAt.replace(/\.\d+Z$/, 'Z'), r.appliedBy])];
              lines.push(...table(rows).map((row) => `  ${row}`));
            }
            if (unreadable.length > 0) lines.push(`  (unreadable ledger files: ${unreadable.join(', ')})`);
            // a rollback to these brings back their version with the current config (src/desired/from-release.ts)
            const versionOnly = releases.filter((r) => !parseRecordedDesired(r.desired)).map((r) => shortVersion(r.id));
            if (versionOnly.length > 0) lines.push(`  recorded without their config (an older mrsk), so a rollback restores only their version: ${versionOnly.join(', ')}`);
            if (entry.neverHealthy.length > 0) {
              const failed = entry.neverHealthy.map((c) => `${c.version} (${c.container})`).join(', ');
              lines.push(`  never became healthy here, so no rollback target: ${failed}`);
            }
            ctx.out.print(`${lines.join('\n')}\n`);
          }
        }
        return ledgers.some((l) => !l.ok) ? 1 : 0;
      }, { app: true });
    }));
};
