// mrsk app exec: a command in a new container of the deployed version (or, with --reuse, in the
// running one) on every selected host, or attached to this terminal on one host (-i).
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import * as runtime from '../../runtime/index.ts';
import { deriveDesired } from '../../desired/desired.ts';
import type { ContainerSpec } from '../../desired/types.ts';
import type { ReachableHost, Snapshot } from '../../probe/types.ts';
import { absoluteOnHost, hostPaths } from '../../desired/paths.ts';
import { auditOrReport } from '../../apply/lock.ts';
import { runtimeOf, tryRun } from '../../apply/remote.ts';
import { HostError, UsageError } from '../../errors.ts';
import { redact } from '../../secret.ts';
import { combinedExitCode, runPerHost, type HostOutcome } from '../../ops/hosts.ts';
import { formatSummary } from '../../views/hosts.ts';
import { describeExec, execArgv } from '../../ops/exec.ts';
import { shortVersion } from '../../plan/short-version.ts';
import { deployedVersion, probe, requireHosts, type Session } from '../shared/common.ts';
import { currentContainer, NO_TIMEOUT_MS, printSections, reachableHost, requireVersion, rolesOnHost } from '../shared/per-host.ts';
import { withSession } from '../shared/session.ts';

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
  if (!role) throw new HostError(host, 'no selected role runs on this host');
  const cmd = execArgv(words);
  const tty = Boolean(options.interactive);
  if (options.reuse) {
    const container = currentContainer(seen, session, role.name, version);
    if (!container || container.state !== 'running') throw new HostError(host, `no running ${role.name} container to exec in (use app exec without --reuse)`);
    return { argv: runtime.execInContainer(runtimeOf(session.remote, host), container.name, cmd, { interactive: tty, tty }), what: `in ${shortVersion(container.name)}` };
  }
  const target = requireVersion(version);
  const spec = deriveDesired(session.config, target).hosts[host]?.containers.find((c) => c.role === role.name);
  if (!spec) throw new HostError(host, `no ${role.name} container is configured on this host`);
  const envFile = await envFileFor(session, seen, spec);
  return {
    argv: runtime.runOnce(runtimeOf(session.remote, host), spec.image, cmd, { network: spec.network, env: spec.env, envFile: envFile.path, interactive: tty }),
    what: `in a new ${role.name} container of ${shortVersion(target)}`,
    cleanup: envFile.cleanup,
  };
}

async function appExec(ctx: CommandContext, options: ExecOptions, words: string[]): Promise<number> {
  if (words.length === 0) throw new UsageError('app exec needs a command, e.g. mrsk app exec "bin/rails db:migrate:status"');
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const { config } = session;
    // One host for --once and -i: the primary host when selected, else the first selected one.
    const single = options.once || options.interactive;
    const hosts = single ? [session.hosts.includes(config.primaryHost) ? config.primaryHost : session.hosts[0]!] : [...session.hosts];
    const snapshot = await probe(session, hosts);
    const version = deployedVersion(config, snapshot);
    const described = redact(describeExec(words), config.secrets);
    const record = (on: readonly string[]) =>
      auditOrReport(session.remote, on, config.service, config.destination, `app exec ${described}${options.reuse ? ' (reuse)' : ''}, version ${version ?? 'none'}`, (text) => ctx.out.warn(text));

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
  }, { app: true });
}

export function registerExec(app: Command, bind: Bind): void {
  app
    .command('exec')
    .description('run a command in a new container of the deployed version on every selected host (quote it: mrsk app exec "ls -l")')
    .argument('<command...>', 'one word is run by sh -c; several words are exact argv')
    .option('-i, --interactive', 'attach this terminal (TTY, stdin, Ctrl-C) on the primary host')
    .option('--reuse', 'run inside the running container (docker exec) instead of a new one')
    .option('--once', 'only on the primary host')
    .action(bind<ExecOptions>((ctx, options, args) => appExec(ctx, options, args)));
}
