// mrsk setup: first-time preparation of the hosts, then a deploy. The container runtime (Docker
// or Podman) is checked on every host and installed with the host's package manager when missing
// and the SSH user is root.
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import { HostError } from '../errors.ts';
import { resolveRuntime, tryRun } from '../apply/remote.ts';
import { RUNTIMES, runtimeVersion, type RuntimeName } from '../runtime/runtime.ts';
import { resolveVersion } from '../config/version.ts';
import { commandHooks } from '../hooks/run.ts';
import { requireHosts, type Session } from './shared/common.ts';
import { deployTo, deployedSummary, unexpectedlyBlocked } from './shared/deploy.ts';
import { shortVersion } from '../plan/short-version.ts';
import { withSession } from './shared/session.ts';

/** Installs a runtime with the host's package manager (root only); Docker's daemon is started where it is a service. */
export function installRuntimeScript(rt: RuntimeName): string {
  const pkg = RUNTIMES[rt];
  const enable = rt === 'docker' ? ' && systemctl enable --now docker' : '';
  const openrc = rt === 'docker' ? ' && rc-update add docker && service docker start' : '';
  return [
    `if command -v apt-get >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg.aptPackage};`,
    `elif command -v dnf >/dev/null; then dnf install -y ${pkg.dnfPackage}${enable};`,
    `elif command -v apk >/dev/null; then apk add ${pkg.apkPackage}${openrc};`,
    'else echo "no supported package manager (apt-get, dnf, apk)" >&2; exit 1; fi',
  ].join(' ');
}

/**
 * Checks the runtime on every host at once (installing the configured one where it is missing and
 * the SSH user is root); each host that fails is named with why. `auto` installs nothing: it
 * cannot know which one the host should have.
 */
async function ensureRuntime(ctx: CommandContext, session: Session, skipUnreachable = false): Promise<void> {
  const results = await Promise.allSettled(
    session.hosts.map(async (host) => {
      const wish = session.remote.runtimes?.wish(host) ?? 'docker';
      const rt: RuntimeName = wish === 'auto' ? await resolveRuntime(session.remote, host) : wish;
      const { title } = RUNTIMES[rt];
      const version = await tryRun(session.remote, host, runtimeVersion(rt));
      if (version.code === 0) return ctx.out.info(`${host}: ${title} ${version.stdout.trim()}`);
      if (/permission denied/i.test(version.stderr)) {
        throw new HostError(host, `the SSH user ${session.config.ssh.user} may not use ${title}: add it to the docker group (usermod -aG docker ${session.config.ssh.user}) and log in again`);
      }
      const which = await tryRun(session.remote, host, { script: `command -v ${rt}` });
      if (which.code === 0) throw new HostError(host, `${title} is installed but does not answer: ${version.stderr.trim().split('\n').pop()}`);
      if (wish === 'auto') throw new HostError(host, 'no container runtime is installed (runtime: auto): install Docker or Podman, or set runtime to docker or podman so that `mrsk setup` installs it');
      if (session.config.ssh.user !== 'root') throw new HostError(host, `${title} is missing (runtime: ${rt}) and the SSH user is not root: install ${title} on ${host} first, or connect as root`);
      ctx.out.info(`${host}: installing ${title}…`);
      const install = await tryRun(session.remote, host, { script: installRuntimeScript(rt) }, { timeoutMs: 10 * 60_000 });
      if (install.code !== 0) throw new HostError(host, `installing ${title} failed: ${install.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }),
  );
  const failures = session.hosts.flatMap((host, index) => {
    const result = results[index]!;
    if (result.status === 'fulfilled') return [];
    return [{ host, message: result.reason instanceof Error ? result.reason.message : String(result.reason) }];
  });
  if (failures.length === 0) return;
  // --skip-unreachable: the probe that follows decides which hosts are skipped and records them
  if (skipUnreachable && failures.length < session.hosts.length) {
    for (const f of failures) ctx.out.warn(`${f.host}: the container runtime is not ready: ${f.message}`);
    return;
  }
  // one host: its own error (and exit code, e.g. 77 for a host key) as it is
  const only = failures.length === 1 ? results.find((r): r is PromiseRejectedResult => r.status === 'rejected') : undefined;
  if (only?.reason instanceof HostError) throw only.reason;
  throw new HostError(
    failures.map((f) => f.host).join(', '),
    `the container runtime is not ready on ${failures.length} of ${session.hosts.length} host(s), so nothing was deployed:\n${failures.map((f) => `  ${f.host}: ${f.message}`).join('\n')}`,
  );
}

export const register: RegisterCommand = (program, bind) => {
  program
    .command('setup')
    .description('first-time setup: check (or install) Docker or Podman, log in to the registry, boot Traefik, deploy')
    .option('--skip-push', 'deploy an image that is already in the registry')
    .option('--version <version>', 'version to deploy (default: VERSION, else git HEAD)')
    .option('--skip-unreachable', 'set up the hosts that can be used and record the others as behind (default: any such host stops setup)')
    .option('-H, --skip-hooks', 'run none of the hooks (.kamal/hooks or .mrsk/hooks: pre-connect, docker-setup, pre-build, pre-deploy, post-deploy)')
    .option('--takeover', "on hosts Kamal runs, replace Kamal's traefik (HTTP fails for a few seconds; see mrsk plan)")
    .action(bind<{ skipPush?: boolean; version?: string; skipUnreachable?: boolean; skipHooks?: boolean; takeover?: boolean }>(async (ctx, options) => {
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const started = Date.now();
        const version = await resolveVersion({ explicit: options.version, env: process.env, cwd: session.config.root });
        // the builder is checked first, then Docker on the hosts, then the deploy proper
        const result = await deployTo(ctx, session, {
          mode: 'setup',
          version,
          skipPush: options.skipPush,
          skipUnreachable: options.skipUnreachable,
          skipHooks: options.skipHooks,
          takeover: options.takeover,
          prepareHosts: async () => {
            await ensureRuntime(ctx, session, options.skipUnreachable);
            // Kamal runs docker-setup once Docker is on the hosts
            await commandHooks(session.config, { out: ctx.out, signal: ctx.signal, skip: options.skipHooks }, { command: 'setup', version, hosts: session.hosts })('docker-setup');
          },
        });
        ctx.out.info(`Set up ${session.config.service} ${shortVersion(version)} on ${deployedSummary(result, started)}`);
        return unexpectedlyBlocked(result) > 0 ? 1 : 0;
      });
    }));
};
