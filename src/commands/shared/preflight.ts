// The checks a deploy makes before it changes anything, cheapest first: the Docker daemon that
// builds images, then the hosts (reachable, SSH auth, Docker), then the registry login on each
// host. Every failure names the machine, what was seen and what to do; secrets never appear.
import type { CommandContext } from '../../cli/context.ts';
import type { Config, RegistryConfig } from '../../config/types.ts';
import * as docker from '../../runtime/index.ts';
import { runLocalRaw, type LocalExec } from '../../apply/local.ts';
import { resolveRuntime, run } from '../../apply/remote.ts';
import { BuilderError, HostError, HostKeyError, RemoteCommandError } from '../../errors.ts';
import type { MissedHost, Snapshot, UnreachableHost } from '../../probe/types.ts';
import { redact, type Secret } from '../../secret.ts';
import type { Session } from './common.ts';

/** The Docker daemon that builds images, as checked: the environment of every local docker command. */
export interface Builder {
  /** process.env plus DOCKER_HOST=builder.remote, and DOCKER_BUILDKIT=0 without buildx. */
  readonly env: NodeJS.ProcessEnv;
  readonly buildx: boolean;
}

/** A local `docker version` answers in well under a second; a builder that does not answer in this long is unusable. */
export const BUILDER_CHECK_TIMEOUT_MS = 30_000;
/** `docker login` on a host: its own registry timeouts are ~30 s; a host that hangs longer fails alone. */
export const HOST_LOGIN_TIMEOUT_MS = 60_000;

/**
 * Asks the Docker daemon that will build the image for its version, so that a daemon that is not
 * running (or not reachable at builder.remote) is reported as such, before any host is contacted.
 */
export async function checkBuilder(config: Config, options: { exec?: LocalExec; signal?: AbortSignal } = {}): Promise<Builder> {
  const exec = options.exec ?? runLocalRaw;
  const env: NodeJS.ProcessEnv = { ...process.env };
  const remote = config.builder.remote && /^(unix|tcp|ssh):\/\//.test(config.builder.remote) ? config.builder.remote : undefined;
  if (remote) env.DOCKER_HOST = remote;
  const version = await exec(docker.builderServerVersion(), { env, timeoutMs: BUILDER_CHECK_TIMEOUT_MS, signal: options.signal });
  if (version.code !== 0) {
    throw new BuilderError(explainBuilderFailure({ remote, dockerHost: process.env.DOCKER_HOST, code: version.code, stderr: version.stderr || version.stdout }));
  }
  const buildx = (await exec(docker.buildxVersion(), { env, timeoutMs: BUILDER_CHECK_TIMEOUT_MS, signal: options.signal })).code === 0;
  // Without buildx the docker CLI only builds with the legacy builder, and only when told so.
  if (!buildx) env.DOCKER_BUILDKIT = '0';
  return { env, buildx };
}

/** What a failed `docker version` on the building machine means, and what to do about it. Pure. */
export function explainBuilderFailure(failure: { remote?: string; dockerHost?: string; code: number; stderr: string }): string {
  const said = lastLine(failure.stderr);
  const saidPart = said ? ` Docker said: ${said}` : '';
  if (failure.code === 127) {
    return 'the `docker` command is not installed on this machine, and mrsk builds and pushes images with it: install Docker, or deploy an image that is already in the registry with --skip-push';
  }
  const endpoint = failure.remote ?? failure.dockerHost ?? /(?:daemon|socket) at (\S+?)[.:]?(?:\s|$)/i.exec(failure.stderr)?.[1] ?? 'the default Docker socket';
  if (failure.remote) {
    const sshHint = failure.remote.startsWith('ssh://')
      ? ` An ssh:// builder is reached with this machine's \`ssh\` command and its settings (~/.ssh/config, ssh-agent, ~/.ssh/known_hosts), not with ssh.keys: check that \`ssh ${failure.remote.slice('ssh://'.length)} docker version\` works.`
      : ' Start Docker there, or correct builder.remote.';
    return `cannot reach the Docker daemon that builds images at builder.remote (${failure.remote}).${sshHint}${saidPart}`;
  }
  if (/permission denied/i.test(failure.stderr)) {
    return `this user may not use the Docker daemon that builds images (${endpoint}): add it to the docker group (\`sudo usermod -aG docker $USER\`, then log in again), or set builder.remote.${saidPart}`;
  }
  if (failure.code === 124) {
    return `the Docker daemon that builds images (${endpoint}) did not answer within ${BUILDER_CHECK_TIMEOUT_MS / 1000}s: check that it runs, or set builder.remote.${saidPart}`;
  }
  return (
    `cannot reach the Docker daemon that builds images (${endpoint}): start Docker, or set builder.remote to a machine that builds ` +
    `(e.g. ssh://user@build-host); an image already in the registry deploys with --skip-push.${saidPart}`
  );
}

/** What a command that changes hosts would have done: "deployed" (deploy, redeploy, setup) or "changed" (apply). */
export type ChangeVerb = 'deployed' | 'changed';

/**
 * The rule for a host that cannot be used (unreachable, SSH refused, no Docker, unreadable), the
 * same for deploy, redeploy, setup and apply: if any selected host did not answer the first probe
 * usably, nothing is changed anywhere (exit 69, or 77 for host keys). The message names each host,
 * what was seen, and the two ways on: fix it, or --skip-unreachable (the others are changed and the
 * skipped hosts are recorded as behind).
 */
export function requireUsableHosts(snapshot: Snapshot, hosts: readonly string[], verb: ChangeVerb = 'deployed'): void {
  const unusable = unusableHosts(snapshot, hosts);
  if (unusable.length === 0) return;
  const usable = hosts.filter((host) => !unusable.some((h) => h.host === host));
  const names = unusable.map((h) => h.host).join(', ');
  const seen = unusable.map((h) => `  ${h.host}: ${h.status}: ${cleanLine(h.message)}`).join('\n');
  const them = unusable.length === 1 ? 'it' : 'them';
  const next = usable.length
    ? `Fix ${them} and run again, or run again with --skip-unreachable to ${verb === 'deployed' ? 'deploy' : 'change'} ${usable.join(', ')} and record ${names} as behind (\`mrsk drift\` and \`mrsk plan\` show ${them} until ${them} ${unusable.length === 1 ? 'is' : 'are'} deployed).`
    : `Fix ${them} and run again.`;
  const message = `cannot be used, so nothing was ${verb} to any host:\n${seen}\n${next}`;
  if (unusable.every((h) => h.status === 'host-key-changed')) throw new HostKeyError(names, message);
  throw new HostError(names, message, { kind: unusable.every((h) => h.status === 'auth-failed') ? 'auth-failed' : 'unreachable' });
}

/**
 * --skip-unreachable: the selected hosts that can be used, and the others as the release will
 * record them (host and what was seen). Each skipped host is named on stderr. None usable is an
 * error (exit 69) before anything is locked.
 */
export function skipUnusableHosts(ctx: CommandContext, snapshot: Snapshot, hosts: readonly string[]): { usable: string[]; missed: MissedHost[] } {
  const unusable = unusableHosts(snapshot, hosts);
  const missed = unusable.map((h) => ({ host: h.host, reason: `${h.status}: ${cleanLine(h.message)}` }));
  const usable = hosts.filter((host) => !unusable.some((h) => h.host === host));
  if (usable.length === 0) requireUsableHosts(snapshot, hosts);
  for (const m of missed) ctx.out.warn(`${m.host}: ${m.reason} — skipped (--skip-unreachable); the release records it as behind`);
  return { usable, missed };
}

function unusableHosts(snapshot: Snapshot, hosts: readonly string[]): UnreachableHost[] {
  return hosts.map((host) => snapshot.hosts[host] ?? { host, status: 'error' as const, message: 'the host was not probed' }).filter((h): h is UnreachableHost => h.status !== 'ok');
}

/**
 * `docker login` on every host at once (the password on stdin). Each host is reported: the ones
 * that failed are named with what docker or the connection said and a hint, and then the deploy
 * stops before any host is changed. The app's registry, or the one given (an accessory's own).
 */
export async function loginOnHosts(ctx: CommandContext, session: Session, hosts: readonly string[], login: RegistryConfig = session.config.registry): Promise<void> {
  await startLoginOnHosts(ctx, session, hosts, login)(hosts);
}

/**
 * Starts the registry login on these hosts at once and returns how to wait for it: the returned
 * function settles the logins of the hosts it is given (the ones found usable meanwhile) and
 * reports their failures; a login that failed on a host left out (unreachable, skipped) is not one.
 */
export function startLoginOnHosts(ctx: CommandContext, session: Session, hosts: readonly string[], login: RegistryConfig = session.config.registry): (usable: readonly string[]) => Promise<void> {
  const { server, username, password } = login;
  if (!username || !password) return async () => {};
  const results = Promise.allSettled(
    hosts.map(async (host) => run(session.remote, host, docker.login(await resolveRuntime(session.remote, host), server, username), { stdin: password.reveal(), timeoutMs: HOST_LOGIN_TIMEOUT_MS })),
  );
  const registry = server ?? 'Docker Hub';
  return async (usable) => {
    const settled = await results;
    const failures = hosts.flatMap((host, index) => {
      const result = settled[index]!;
      return usable.includes(host) && result.status === 'rejected' ? [{ host, reason: loginFailureReason(host, result.reason, registry, session.config.secrets) }] : [];
    });
    const count = hosts.filter((host) => usable.includes(host)).length;
    if (failures.length === 0) {
      ctx.out.info(`Logged in to ${registry} on ${count} host(s)`);
      return;
    }
    const lines = failures.map((f) => `  ${f.host}: ${f.reason}`).join('\n');
    throw new HostError(
      failures.map((f) => f.host).join(', '),
      `registry login to ${registry} failed on ${failures.length} of ${count} host(s), so nothing was deployed:\n${lines}`,
      { kind: 'error' },
    );
  };
}

/** One host's login failure in one line: what was seen (redacted, control characters removed), then the fix. */
export function loginFailureReason(host: string, error: unknown, registry: string, secrets: readonly Secret[]): string {
  if (error instanceof RemoteCommandError) {
    const said = cleanLine(redact(lastLine(error.stderr), secrets));
    const hint = loginHint(error.stderr, registry);
    return `docker login exited ${error.code ?? 'on a signal'}${said ? `: ${said}` : ''}${hint ? ` — ${hint}` : ''}`;
  }
  return cleanLine(redact(error instanceof Error ? error.message : String(error), secrets));
}

/** The fix for the usual reasons `docker login` fails, on a host or on this machine. */
export function loginHint(stderr: string, registry: string): string | undefined {
  if (/unauthorized|incorrect username or password|authentication required|401/i.test(stderr)) return 'the registry refused the credentials: check registry.username and registry.password';
  if (/server gave HTTP response to HTTPS client/i.test(stderr)) {
    return `${registry} answers plain HTTP: serve it over HTTPS, or list it in insecure-registries of that Docker daemon (/etc/docker/daemon.json)`;
  }
  if (/cannot connect to the docker daemon|is the docker daemon running/i.test(stderr)) return 'Docker is not running there';
  if (/permission denied/i.test(stderr)) return 'the SSH user may not use Docker: add it to the docker group';
  if (/command not found|docker: not found/i.test(stderr)) return 'Docker is not installed there: `mrsk setup` installs it';
  if (/no such host|connection refused|i\/o timeout|network is unreachable|no route to host|timeout/i.test(stderr)) return `that machine cannot reach the registry ${registry}`;
  return undefined;
}

function lastLine(text: string): string {
  return text.trim().split('\n').map((line) => line.trim()).filter(Boolean).pop() ?? '';
}

/** One line of text a host or tool sent, safe to print: no control characters (escape sequences). */
function cleanLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}
