// mrsk audit: the last lines of the audit log of every selected host (who did what, when,
// with which version), written by every mutating command.
import type { RegisterCommand } from '../cli/program.ts';
import { run } from '../apply/remote.ts';
import { auditTailScript } from '../host/audit.ts';
import { auditLines, parseAuditLine } from '../ops/audit.ts';
import { combinedExitCode, runPerHost } from '../ops/hosts.ts';
import { printSections } from './shared/per-host.ts';
import { requireHosts } from './shared/common.ts';
import { parseCount } from './shared/options.ts';
import { withSession } from './shared/session.ts';

/** Lines shown per host unless --lines says otherwise (as Kamal's `tail -n 50`). */
export const DEFAULT_AUDIT_LINES = 50;

export const register: RegisterCommand = (program, bind) => {
  program
    .command('audit')
    .description('the last lines of the audit log on each host')
    .option('-n, --lines <n>', `lines per host (default ${DEFAULT_AUDIT_LINES})`)
    .option('--json', 'print JSON')
    .action(bind<{ lines?: string; json?: boolean }>(async (ctx, options) => {
      const lines = parseCount('--lines', options.lines, 1) ?? DEFAULT_AUDIT_LINES;
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const { destination } = session.config;
        const outcomes = await runPerHost<string[]>(
          session.hosts,
          async (host) => {
            const result = await run(session.remote, host, auditTailScript(session.config, lines));
            const found = auditLines(result.stdout);
            return { host, ok: true, output: found.length ? found.join('\n') : 'no audit log yet', data: found };
          },
          options.json ? () => undefined : printSections(ctx, 'Audit'),
        );
        if (options.json) {
          ctx.out.printJson({
            hosts: Object.fromEntries(
              outcomes.map((o) => [o.host, o.ok ? { entries: (o.data ?? []).map((line) => parseAuditLine(line, destination)) } : { error: o.problem }]),
            ),
          });
        }
        return combinedExitCode(outcomes);
      });
    }));
};
