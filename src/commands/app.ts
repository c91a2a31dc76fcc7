// mrsk app exec|containers|images|details|logs|start|stop|version: the day-two commands on the
// app's containers. Every command runs on the selected hosts in parallel and prints one
// `App Host: <host>` section per host, in host order (see src/ops/hosts.ts).
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import type { Role } from '../config/types.ts';
import * as docker from '../docker/index.ts';
import { desired as deriveDesired } from '../desired/desired.ts';
import type { ContainerSpec } from '../desired/types.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../probe/types.ts';
import { absoluteOnHost, hostPaths } from '../desired/paths.ts';
import { audit, withLock } from '../apply/lock.ts';
import { run, tryRun } from '../apply/remote.ts';
import { AbortedError, UsageError } from '../errors.ts';
import { redact } from '../secret.ts';
import { shq, toShell } from '../ssh/quote.ts';
import { combinedExitCode, formatHostSection, formatSummary, runPerHost, type HostOutcome } from '../ops/hosts.ts';
import { classifyContainers, commonRollbackTargets, formatContainerTable, rollbackTargets, type ContainerRow } from '../ops/containers.ts';
import { formatImageTable, formatPsTable, isAppContainer, parseImageLines, parsePsLines, type PsEntry } from '../ops/docker-ps.ts';
import { filterLines, followScript, HostLineStream, hostPrefixes, lineMatcher, stripAnsi } from '../ops/logs.ts';
import { describeExec, execArgv } from '../ops/exec.ts';
import { shortVersion } from '../plan/short-version.ts';
import { deployedVersion, openSession, probe, requireHosts, type Session } from './common.ts';

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

/** The snapshot of a host, or an Error naming why it cannot be used. */
export function reachableHost(snapshot: Snapshot, host: string): ReachableHost {
  const seen = snapshot.hosts[host];
  if (!seen) throw new Error(`${host}: not probed`);
  if (seen.status !== 'ok') throw new Error(`${host}: ${seen.message || seen.status}`);
  return seen;
}

/** The container of a role a command acts on: the newest running one, else the newest of the deployed version. */
export function currentContainer(host: ReachableHost, session: Session, role: string, version: string | undefined): ObservedContainer | undefined {
  const mine = host.containers
    .filter((c) => isAppContainer(c.labels, session.config.service, session.config.destination, [role]))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return mine.find((c) => c.state === 'running') ?? mine.find((c) => c.labels['mrsk.version'] === version);
}

function requireVersion(version: string | undefined): string {
  if (!version) throw new UsageError('nothing is deployed on the selected hosts yet: run `mrsk deploy` first');
  return version;
}

// ---- exec ------------------------------------------------------------------------------------

interface ExecOptions {
  interactive?: boolean;
  reuse?: boolean;
  once?: boolean;
}

/** How one host runs the command: the argv, plus a clean-up for a one-off env file. */
interface ExecPlan {
  readonly argv: readonly string[];
  readonly what: string;
  readonly cleanup?: () => Promise<void>;
}

/**
 * The secret env file a one-off container reads: the running container's 0600 file when the host
 * has it, else a fresh one uploaded for this run (removed afterwards).
 */
async function envFileFor(session: Session, host: ReachableHost, spec: ContainerSpec): Promise<{ path?: string; cleanup?: () => Promise<void> }> {
  const names = Object.keys(spec.secretEnv).sort();
  if (names.length === 0) return {};
  const paths = hostPaths(session.config.service, session.config.destination);
  const existing = absoluteOnHost(host.home, paths.envFile(spec.name));
  const found = await tryRun(session.remote, host.host, ['test', '-f', existing]);
  if (found.code === 0) return { path: existing };
  const fresh = absoluteOnHost(host.home, paths.envFile(`${spec.name}-exec-${randomBytes(4).toString('hex')}`));
  const values = names.map((name) => [name, spec.secretEnv[name]!.reveal()] as const);
  // docker's --env-file takes each line literally: a newline cannot be carried.
  const broken = values.find(([, value]) => value.includes('\n'));
  if (broken) throw new UsageError(`secret ${broken[0]} contains a newline, which docker env files cannot carry`);
  const content = values.map(([name, value]) => `${name}=${value}`).join('\n') + '\n';
  await session.runner.upload(host.host, fresh, content, 0o600);
  return { path: fresh, cleanup: async () => void (await tryRun(session.remote, host.host, ['rm', '-f', fresh])) };
}

async function planExec(session: Session, snapshot: Snapshot, host: string, words: readonly string[], options: ExecOptions, version: string | undefined): Promise<ExecPlan> {
  const seen = reachableHost(snapshot, host);
  const role = rolesOnHost(session, host)[0];
  if (!role) throw new Error(`no selected role runs on ${host}`);
  const cmd = execArgv(words);
  const tty = Boolean(options.interactive);
  if (options.reuse) {
    const container = currentContainer(seen, session, role.name, version);
    if (!container || container.state !== 'running') throw new Error(`no running ${role.name} container to exec in (use app exec without --reuse)`);
    return { argv: docker.execInContainer(container.name, cmd, { interactive: tty, tty }), what: `in ${shortVersion(container.name)}` };
  }
  const target = requireVersion(version);
  const spec = deriveDesired(session.config, target).hosts[host]?.containers.find((c) => c.role === role.name);
  if (!spec) throw new Error(`no ${role.name} container is configured on ${host}`);
  const envFile = await envFileFor(session, seen, spec);
  return {
    argv: docker.runOnce(spec.image, cmd, { network: spec.network, env: spec.env, envFile: envFile.path, interactive: tty }),
    what: `in a new ${role.name} container of ${shortVersion(target)}`,
    cleanup: envFile.cleanup,
  };
}

async function appExec(ctx: CommandContext, options: ExecOptions, words: string[]): Promise<number> {
  if (words.length === 0) throw new UsageError('app exec needs a command, e.g. mrsk app exec "bin/rails db:migrate:status"');
  const session = await openSession(ctx);
  try {
    requireHosts(session.hosts);
    const { config } = session;
    // One host for --once and -i: the primary host when selected, else the first selected one.
    const single = options.once || options.interactive;
    const hosts = single ? [session.hosts.includes(config.primaryHost) ? config.primaryHost : session.hosts[0]!] : [...session.hosts];
    const snapshot = await probe(session, hosts);
    const version = deployedVersion(config, snapshot);
    const described = redact(describeExec(words), config.secrets);
    const record = (on: readonly string[]) =>
      audit(session.remote, on, config.service, config.destination, `app exec ${described}${options.reuse ? ' (reuse)' : ''}, version ${version ?? 'none'}`).catch(() => undefined);

    if (options.interactive) {
      const host = hosts[0]!;
      const plan = await planExec(session, snapshot, host, words, options, version);
      ctx.out.info(`Launching interactive command ${plan.what} on ${host}`);
      await record([host]);
      try {
        // The terminal is wired straight through: Ctrl-C reaches the remote process as a byte.
        const result = await session.runner.exec(host, plan.argv, { pty: true });
        return result.code;
      } finally {
        await plan.cleanup?.();
      }
    }

    const outcomes = await runPerHost(
      hosts,
      async (host): Promise<HostOutcome> => {
        const plan = await planExec(session, snapshot, host, words, options, version);
        let output = '';
        try {
          // stdout and stderr are kept in the order they arrived, as on a terminal.
          const result = await tryRun(session.remote, host, plan.argv, {
            onStdout: (chunk) => void (output += chunk),
            onStderr: (chunk) => void (output += chunk),
            timeoutMs: NO_TIMEOUT_MS,
            keepOutput: false, // kept above, once (the runner's 16 MiB cap still applies)
          });
          const text = redact(output, config.secrets);
          return result.code === 0 ? { host, ok: true, code: 0, output: text } : { host, ok: false, code: result.code, output: text, problem: `exit ${result.code}` };
        } finally {
          await plan.cleanup?.();
        }
      },
      printSections(ctx, 'App'),
    );
    await record(outcomes.filter((o) => o.code !== undefined).map((o) => o.host));
    const summary = formatSummary(outcomes);
    if (summary) ctx.out.info(summary.trimEnd());
    return combinedExitCode(outcomes);
  } finally {
    await session.close();
  }
}

// ---- containers, images, details, version ----------------------------------------------------

interface JsonOption {
  json?: boolean;
}

async function appContainers(ctx: CommandContext, options: JsonOption): Promise<number> {
  const session = await openSession(ctx);
  try {
    requireHosts(session.hosts);
    const snapshot = await probe(session);
    const version = deployedVersion(session.config, snapshot);
    const print = options.json ? () => undefined : printSections(ctx, 'App');
    const outcomes = await runPerHost<ContainerRow[]>(
      session.hosts,
      async (host) => {
        const seen = reachableHost(snapshot, host);
        const rows = classifyContainers(seen.containers, {
          service: session.config.service,
          destination: session.config.destination,
          roles: rolesOnHost(session, host).map((r) => r.name),
          currentVersion: version,
        });
        return { host, ok: true, output: formatContainerTable(rows, ctx.out.width), data: rows };
      },
      print,
    );
    const perHost = outcomes.filter((o) => o.ok).map((o) => rollbackTargets(o.data ?? []));
    const common = outcomes.every((o) => o.ok) ? commonRollbackTargets(perHost) : [];
    if (options.json) {
      ctx.out.printJson({
        version: version ?? null,
        rollbackTargets: common,
        hosts: Object.fromEntries(
          outcomes.map((o) => [o.host, o.ok ? { containers: o.data, rollbackTargets: rollbackTargets(o.data ?? []) } : { error: o.problem }]),
        ),
      });
    } else {
      const targets = outcomes.every((o) => o.ok) ? (common.length ? common.map(shortVersion).join(', ') : 'none') : 'unknown (not every host could be read)';
      ctx.out.print(`Deployed version: ${version ? shortVersion(version) : 'none'}\nRollback targets on every selected host: ${targets}`);
    }
    return combinedExitCode(outcomes);
  } finally {
    await session.close();
  }
}

async function appImages(ctx: CommandContext): Promise<number> {
  const session = await openSession(ctx);
  try {
    requireHosts(session.hosts);
    const outcomes = await runPerHost(
      session.hosts,
      async (host) => {
        const result = await run(session.remote, host, docker.listImages(session.config.image));
        return { host, ok: true, output: formatImageTable(parseImageLines(result.stdout), ctx.out.width) };
      },
      printSections(ctx, 'App'),
    );
    return combinedExitCode(outcomes);
  } finally {
    await session.close();
  }
}

/** The running app containers of the selected roles on a host, as `docker ps` lists them. */
export async function appPs(session: Session, host: string): Promise<PsEntry[]> {
  const { service, destination } = session.config;
  const labels = [`mrsk.service=${service}`, ...(destination ? [`mrsk.destination=${destination}`] : [])];
  const result = await run(session.remote, host, docker.listContainers({ label: labels }));
  const roles = rolesOnHost(session, host).map((r) => r.name);
  return parsePsLines(result.stdout).filter((entry) => isAppContainer(entry.labels, service, destination, roles));
}

/** `app details` as JSON-able data per host plus the printed sections. */
export async function appDetails(ctx: CommandContext, session: Session, json: boolean): Promise<HostOutcome<PsEntry[]>[]> {
  return runPerHost<PsEntry[]>(
    session.hosts,
    async (host) => {
      const entries = await appPs(session, host);
      return { host, ok: true, output: formatPsTable(entries, ctx.out.width), data: entries };
    },
    json ? () => undefined : printSections(ctx, 'App'),
  );
}

async function appVersion(ctx: CommandContext): Promise<number> {
  const session = await openSession(ctx);
  try {
    requireHosts(session.hosts);
    const snapshot = await probe(session);
    const outcomes = await runPerHost(
      session.hosts,
      async (host) => {
        const seen = reachableHost(snapshot, host);
        const role = rolesOnHost(session, host)[0];
        const container = role ? currentContainer(seen, session, role.name, undefined) : undefined;
        const running = container?.state === 'running' ? container.labels['mrsk.version'] : undefined;
        return { host, ok: true, output: running ?? 'not running' };
      },
      printSections(ctx, 'App'),
    );
    return combinedExitCode(outcomes);
  } finally {
    await session.close();
  }
}

// ---- start / stop ----------------------------------------------------------------------------

interface LockOptions {
  lockWait?: string;
  force?: boolean;
}

/** Runs a mutating per-host change under the deploy lock, prints sections, writes the audit log. */
export async function lockedPerHost(
  ctx: CommandContext,
  session: Session,
  hosts: readonly string[],
  command: string,
  options: LockOptions,
  title: string,
  task: (host: string) => Promise<HostOutcome>,
): Promise<number> {
  const { service, destination } = session.config;
  return withLock(session.remote, hosts, { service, destination, command, waitSeconds: options.lockWait ? Number(options.lockWait) : undefined, force: options.force }, async () => {
    const outcomes = await runPerHost(hosts, task, printSections(ctx, title));
    const done = outcomes.filter((o) => o.ok).map((o) => o.host);
    if (done.length) await audit(session.remote, done, service, destination, command).catch(() => undefined);
    const summary = formatSummary(outcomes);
    if (summary && outcomes.some((o) => !o.ok)) ctx.out.info(summary.trimEnd());
    return combinedExitCode(outcomes);
  });
}

async function appStartStop(ctx: CommandContext, options: LockOptions, action: 'start' | 'stop'): Promise<number> {
  const session = await openSession(ctx);
  try {
    requireHosts(session.hosts);
    const snapshot = await probe(session);
    const version = deployedVersion(session.config, snapshot);
    const hosts = session.hosts.filter((h) => snapshot.hosts[h]?.status === 'ok');
    for (const h of session.hosts) if (!hosts.includes(h)) ctx.out.warn(`${h}: cannot be reached — left out`);
    if (hosts.length === 0) throw new UsageError('no selected host could be reached');
    return await lockedPerHost(ctx, session, hosts, `app ${action}${version ? ` ${version}` : ''}`, options, 'App', async (host) => {
      const seen = reachableHost(snapshot, host);
      const lines: string[] = [];
      for (const role of rolesOnHost(session, host)) {
        if (action === 'stop') {
          const running = seen.containers.filter((c) => c.state === 'running' && isAppContainer(c.labels, session.config.service, session.config.destination, [role.name]));
          for (const c of running) {
            await run(session.remote, host, docker.stopContainer(c.id, session.config.drainTimeout));
            lines.push(`stopped ${shortVersion(c.name)}`);
          }
          if (running.length === 0) lines.push(`${role.name}: nothing running`);
        } else {
          const target = requireVersion(version);
          const container = seen.containers.find((c) => c.labels['mrsk.version'] === target && isAppContainer(c.labels, session.config.service, session.config.destination, [role.name]));
          if (!container) {
            lines.push(`${role.name}: no container of ${shortVersion(target)} (run mrsk deploy)`);
            continue;
          }
          if (container.state === 'running') {
            lines.push(`${shortVersion(container.name)} is already running`);
            continue;
          }
          const spec = deriveDesired(session.config, target).hosts[host]?.containers.find((c) => c.role === role.name);
          // A proxied container only turns healthy (and gets traffic) with its drain file in place.
          if (spec?.cordDir) {
            const dir = absoluteOnHost(seen.home, spec.cordDir);
            await run(session.remote, host, { script: `mkdir -p ${shq(dir)} && touch ${shq(`${dir}/ok`)}` });
          }
          await run(session.remote, host, docker.startContainer(container.id));
          lines.push(`started ${shortVersion(container.name)}`);
        }
      }
      return { host, ok: true, output: lines.join('\n') };
    });
  } finally {
    await session.close();
  }
}

// ---- logs ------------------------------------------------------------------------------------

/** Options of `app logs` and `traefik logs`. */
export interface LogsCommandOptions {
  lines?: string;
  since?: string;
  grep?: string;
  follow?: boolean;
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
export async function showLogs(ctx: CommandContext, session: Session, title: string, hosts: readonly string[], sources: readonly LogSource[], options: LogsCommandOptions): Promise<number> {
  const matches = lineMatcher(options.grep);
  const parsedLines = options.lines !== undefined ? Number.parseInt(options.lines, 10) : undefined;
  if (parsedLines !== undefined && !(parsedLines >= 0)) throw new UsageError(`--lines needs a number, got ${options.lines}`);
  const secrets = session.config.secrets;
  // Colours in remote logs (Traefik's) only make sense on a terminal that shows ours too.
  const clean = (text: string) => redact(ctx.out.color ? text : stripAnsi(text), secrets);
  if (options.follow) {
    const prefixes = hostPrefixes(hosts);
    // With several containers on one host (web and job), lines also name their container.
    const several = hosts.some((h) => sources.filter((s) => s.host === h).length > 1);
    const streams = sources.map(async (source) => {
      const prefix = several ? `${prefixes[source.host]}${source.container}: ` : prefixes[source.host]!;
      const emit = (line: string) => ctx.out.print(clean(line));
      const out = new HostLineStream(prefix, matches, emit);
      const err = new HostLineStream(prefix, matches, emit);
      try {
        const argv = docker.containerLogs(source.container, { lines: parsedLines ?? (options.since ? undefined : 10), since: options.since, follow: true });
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
  const lines = parsedLines ?? (options.since || options.grep ? undefined : 100);
  const outcomes = await runPerHost(
    hosts,
    async (host) => {
      const mine = sources.filter((s) => s.host === host);
      if (mine.length === 0) return { host, ok: true, output: 'no container' };
      const parts: string[] = [];
      let failed: string | undefined;
      for (const source of mine) {
        let output = '';
        const result = await tryRun(session.remote, host, docker.containerLogs(source.container, { lines, since: options.since }), {
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

async function appLogs(ctx: CommandContext, options: LogsCommandOptions): Promise<number> {
  const session = await openSession(ctx);
  try {
    requireHosts(session.hosts);
    const snapshot = await probe(session);
    const version = deployedVersion(session.config, snapshot);
    const sources: LogSource[] = [];
    for (const host of session.hosts) {
      const seen = snapshot.hosts[host];
      if (!seen || seen.status !== 'ok') {
        ctx.out.warn(`${host}: ${seen && 'message' in seen ? seen.message : 'not reachable'} — left out`);
        continue;
      }
      for (const role of rolesOnHost(session, host)) {
        const container = currentContainer(seen, session, role.name, version);
        if (container) sources.push({ host, container: container.name });
      }
    }
    const hosts = session.hosts.filter((h) => snapshot.hosts[h]?.status === 'ok');
    return await showLogs(ctx, session, 'App', hosts, sources, options);
  } finally {
    await session.close();
  }
}

// ---- registration ----------------------------------------------------------------------------

function addLogOptions(command: Command): Command {
  return command
    .option('-n, --lines <n>', 'only the last N lines (default 100; 10 with --follow)')
    .option('-s, --since <time>', 'only since this time: 2026-01-02T15:04:05, 42m, 2h')
    .option('-g, --grep <pattern>', 'only lines matching this regular expression')
    .option('-f, --follow', 'keep streaming new lines from every host until Ctrl-C');
}

function addLockOptions(command: Command): Command {
  return command.option('--lock-wait <seconds>', 'wait this long for a held deploy lock').option('--force', 'take over a deploy lock whose lease ran out');
}

export { addLockOptions, addLogOptions };

export const register: RegisterCommand = (program, bind) => {
  const app = program.command('app').description('run commands in the app containers, show them, their logs and versions');
  app
    .command('exec')
    .description('run a command in a new container of the deployed version on every selected host (quote it: mrsk app exec "ls -l")')
    .argument('<command...>', 'one word is run by sh -c; several words are exact argv')
    .option('-i, --interactive', 'attach this terminal (TTY, stdin, Ctrl-C) on the primary host')
    .option('--reuse', 'run inside the running container (docker exec) instead of a new one')
    .option('--once', 'only on the primary host')
    .action(bind<ExecOptions>((ctx, options, args) => appExec(ctx, options, args)));
  app
    .command('containers')
    .description('all containers of the app per host, current and old, marking rollback targets')
    .option('--json', 'print JSON')
    .action(bind<JsonOption>((ctx, options) => appContainers(ctx, options)));
  app
    .command('images')
    .description('the app images on each host')
    .action(bind((ctx) => appImages(ctx)));
  app
    .command('details')
    .description('the running app containers on each host (docker ps)')
    .option('--json', 'print JSON')
    .action(bind<JsonOption>(async (ctx, options) => {
      const session = await openSession(ctx);
      try {
        requireHosts(session.hosts);
        const outcomes = await appDetails(ctx, session, Boolean(options.json));
        if (options.json) ctx.out.printJson({ hosts: Object.fromEntries(outcomes.map((o) => [o.host, o.ok ? { app: o.data } : { error: o.problem }])) });
        return combinedExitCode(outcomes);
      } finally {
        await session.close();
      }
    }));
  addLogOptions(app.command('logs').description('the app containers’ logs from every selected host')).action(
    bind<LogsCommandOptions>((ctx, options) => appLogs(ctx, options)),
  );
  addLockOptions(app.command('start').description('start the deployed version’s containers again (after app stop)')).action(
    bind<LockOptions>((ctx, options) => appStartStop(ctx, options, 'start')),
  );
  addLockOptions(app.command('stop').description('stop the running app containers (Traefik stops routing to them)')).action(
    bind<LockOptions>((ctx, options) => appStartStop(ctx, options, 'stop')),
  );
  app
    .command('version')
    .description('the version running on each host')
    .action(bind((ctx) => appVersion(ctx)));
};
