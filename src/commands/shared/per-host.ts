// What the day-two commands (app, traefik, audit, registry, details) share: the roles and the
// current container of a host, printing one `<Title> Host: <host>` section per host in host
// order (src/ops/hosts.ts), and logs. Changes go through the plan pipeline (../converge.ts).
import type { CommandContext } from '../../cli/context.ts';
import type { Role } from '../../config/types.ts';
import * as runtime from '../../runtime/index.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../../probe/types.ts';
import { resolveRuntime, tryRun } from '../../apply/remote.ts';
import { AbortedError, HostError, UsageError } from '../../errors.ts';
import { redact } from '../../secret.ts';
import { toShell } from '../../shell/quote.ts';
import { combinedExitCode, runPerHost, type HostOutcome } from '../../ops/hosts.ts';
import { formatHostSection } from '../../views/hosts.ts';
import { currentContainer as currentContainerOf } from '../../probe/observed.ts';
import { filterLines, followScript, HostLineStream, hostPrefixes, lineMatcher, stripAnsi } from '../../ops/logs.ts';
import type { Session } from './common.ts';
import type { LogRequest } from './options.ts';

/** The longest timer Node accepts (~24.8 days): "no timeout" for followed logs and long execs. */
export const NO_TIMEOUT_MS = 2_147_483_647;

/** The selected roles that run on host, primary role first (config order). */
export function rolesOnHost(session: Session, host: string): Role[] {
  return session.config.roles.filter((role) => role.hosts.includes(host) && session.roles.includes(role.name));
}

/** Prints each outcome as a `<title> Host:` section as soon as it is ready (host order). */
export function printSections(ctx: CommandContext, title: string): (outcome: HostOutcome) => void {
  return (outcome) => ctx.out.print(formatHostSection(title, outcome));
}

/** The snapshot of a host, or a HostError naming why it cannot be used. */
export function reachableHost(snapshot: Snapshot, host: string): ReachableHost {
  const seen = snapshot.hosts[host];
  if (!seen) throw new HostError(host, 'not probed');
  if (seen.status !== 'ok') throw new HostError(host, seen.message || seen.status);
  return seen;
}

/** The container of a role a command acts on: the newest running one, else the newest of the deployed version. */
export function currentContainer(host: ReachableHost, session: Session, role: string, version: string | undefined): ObservedContainer | undefined {
  return currentContainerOf(host.containers, session.config.service, session.config.destination, role, version);
}

/** The deployed version, or a usage error when nothing is deployed yet. */
export function requireVersion(version: string | undefined): string {
  if (!version) throw new UsageError('nothing is deployed on the selected hosts yet: run `mrsk deploy` first');
  return version;
}

/** One container whose logs to show. */
export interface LogSource {
  readonly host: string;
  readonly container: string;
}

/**
 * Prints the logs of the given containers: grouped per host (`<title> Host:`), or with -f
 * streamed line by line with a host prefix from every host until Ctrl-C.
 */
export async function showLogs(ctx: CommandContext, session: Session, title: string, hosts: readonly string[], sources: readonly LogSource[], request: LogRequest): Promise<number> {
  const matches = lineMatcher(request.grep);
  const secrets = session.config.secrets;
  // Colours in remote logs (Traefik's) only make sense on a terminal that shows ours too.
  const clean = (text: string) => redact(ctx.out.color ? text : stripAnsi(text), secrets);
  if (request.follow) {
    const prefixes = hostPrefixes(hosts);
    // With several containers on one host (web and job), lines also name their container.
    const several = hosts.some((h) => sources.filter((s) => s.host === h).length > 1);
    const streams = sources.map(async (source) => {
      const prefix = several ? `${prefixes[source.host]}${source.container}: ` : prefixes[source.host]!;
      const emit = (line: string) => ctx.out.print(clean(line));
      const out = new HostLineStream(prefix, matches, emit);
      const err = new HostLineStream(prefix, matches, emit);
      try {
        const argv = runtime.containerLogs(await resolveRuntime(session.remote, source.host), source.container, { lines: request.lines ?? (request.since ? undefined : 10), since: request.since, follow: true });
        const result = await tryRun(session.remote, source.host, { script: followScript(toShell(argv)) }, {
          onStdout: (c) => out.push(c),
          onStderr: (c) => err.push(c),
          timeoutMs: NO_TIMEOUT_MS,
          // a stream without end: not kept, not capped (the lines go to the terminal as they come)
          keepOutput: false,
          maxOutputBytes: Number.POSITIVE_INFINITY,
        });
        out.end();
        err.end();
        if (result.code !== 0) ctx.out.warn(`${source.host}: logs of ${source.container} ended (exit ${result.code})`);
        return result.code === 0;
      } catch (error) {
        out.end();
        err.end();
        if (error instanceof AbortedError || ctx.signal.aborted) return true;
        ctx.out.warn(`${source.host}: ${(error as Error).message}`);
        return false;
      }
    });
    const results = await Promise.all(streams);
    return results.every(Boolean) ? 0 : 1;
  }
  const lines = request.lines ?? (request.since || request.grep ? undefined : 100);
  const outcomes = await runPerHost(
    hosts,
    async (host) => {
      const mine = sources.filter((s) => s.host === host);
      if (mine.length === 0) return { host, ok: true, output: 'no container' };
      const parts: string[] = [];
      let failed: string | undefined;
      for (const source of mine) {
        let output = '';
        const result = await tryRun(session.remote, host, runtime.containerLogs(await resolveRuntime(session.remote, host), source.container, { lines, since: request.since }), {
          onStdout: (c) => void (output += c),
          onStderr: (c) => void (output += c),
          keepOutput: false, // kept above, once (the runner's 16 MiB cap still applies)
        });
        if (result.code !== 0) failed = `logs of ${source.container}: exit ${result.code}`;
        const text = filterLines(clean(output), matches) || '(no log lines)\n';
        parts.push(mine.length > 1 ? `==> ${source.container} <==\n${text}` : text);
      }
      return failed ? { host, ok: false, output: parts.join('\n'), problem: failed } : { host, ok: true, output: parts.join('\n') };
    },
    printSections(ctx, title),
  );
  return combinedExitCode(outcomes);
}
