// Drives the real commands without a host: a CommandContext whose hosts are a ScriptedRunner
// (CommandContext.testing, read by openSession) and whose Output is captured, a commander program
// with one command module registered as the CLI does, and the host scripts mrsk sends besides
// docker (probe, deploy lock, audit log) answered from their own builders in src/, so that a
// change to a script's text breaks these tests rather than passing unseen. Each call is named in
// a trace (`h1: lock acquire`, `h1: audit …`, `h1: docker stop …`) for assertions on order.
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { CommandContext, GlobalOptions, RunTimings } from '../../src/cli/context.ts';
import { Output } from '../../src/cli/output.ts';
import { addGlobalOptions, makeBind, type ProgramState } from '../../src/cli/program.ts';
import { commandTable } from '../../src/cli/registry.ts';
import { EVENT_COMMANDS } from '../../src/cli/pipeline.ts';
import { openSession, type Session } from '../../src/commands/shared/common.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/types.ts';
import { MrskError } from '../../src/errors.ts';
import { acquireLockScript, LOCK_ACQUIRED, LOCK_HELD, LOCK_LOST, LOCK_RENEWED, releaseLockScript, renewLockScript, type AppScope } from '../../src/host/lock.ts';
import { auditAppendScript } from '../../src/host/audit.ts';
import { probeScript } from '../../src/probe/script.ts';
import type { LockInfo, ObservedContainer, ObservedImage, ReachableHost } from '../../src/probe/types.ts';
import { MRSK_NETWORK } from '../../src/model/names.ts';
import { ok, ScriptedRunner, type ScriptedCall } from './scripted-runner.ts';

/** The project the command tests run in: config/deploy.yml there (service app, web on h1.test and h2.test, job on h1.test). */
export const PROJECT = fileURLToPath(new URL('../unit/commands/fixtures/', import.meta.url));
export const CONFIG_FILE = `${PROJECT}config/deploy.yml`;

/** Waits short enough for unit tests; the lease is renewed rarely unless a test says otherwise. */
export const FAST: RunTimings = { pollIntervalMs: 2, drainGraceMs: 0, lockRetryMs: 5, leaseRenewMs: 60_000 };

/** The fixture's config, loaded by the real loader. */
export function loadProjectConfig(): Promise<Config> {
  return loadConfig({ file: CONFIG_FILE, cwd: PROJECT, env: {} });
}

// ---- output ----------------------------------------------------------------------------------

export interface CapturedOutput {
  readonly out: Output;
  /** What went to stdout (plans, tables, status lines). */
  readonly stdout: () => string;
  /** What went to stderr (warnings, errors). */
  readonly stderr: () => string;
}

/** An Output that writes into strings (no terminal: no colour, no live progress). */
export function captureOutput(options: { quiet?: boolean; verbose?: boolean; json?: boolean } = {}): CapturedOutput {
  const sink = (parts: string[]) => ({ isTTY: false, write: (text: string) => (parts.push(String(text)), true) }) as unknown as NodeJS.WriteStream;
  const stdout: string[] = [];
  const stderr: string[] = [];
  const out = new Output({ ...options, env: {} }, sink(stdout), sink(stderr));
  return { out, stdout: () => stdout.join(''), stderr: () => stderr.join('') };
}

/** A CommandContext on the fixture project whose hosts are `runner`. */
export function commandContext(
  runner: ScriptedRunner,
  options: { global?: Partial<GlobalOptions>; timings?: RunTimings; signal?: AbortSignal; output?: CapturedOutput } = {},
): CommandContext & { readonly captured: CapturedOutput } {
  const captured = options.output ?? captureOutput();
  return {
    global: { config: CONFIG_FILE, ...options.global },
    out: captured.out,
    cwd: PROJECT,
    signal: options.signal ?? new AbortController().signal,
    testing: { runner, timings: options.timings ?? FAST },
    captured,
  };
}

/** The Session a command would open on the fixture project (the real openSession, through the seam). */
export function sessionFor(ctx: CommandContext): Promise<Session> {
  return openSession(ctx);
}

// ---- running a command line --------------------------------------------------------------------

export interface CommandRun {
  /** The exit code: the command's, or the error's as src/cli/main.ts maps it (70 for a non-mrsk error). */
  readonly code: number;
  readonly error?: unknown;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `mrsk <argv>` with the command module the CLI would load for argv[0], the global options
 * on every subcommand, and `--json` where the CLI adds it; the hosts are `runner`. `config`: another
 * config file than the fixture project's (its project root stays the process's working folder).
 */
export async function runCommand(argv: readonly string[], runner: ScriptedRunner, options: { timings?: RunTimings; abort?: AbortController; config?: string } = {}): Promise<CommandRun> {
  const entry = commandTable.find((candidate) => candidate.names.includes(argv[0]!));
  if (!entry) throw new Error(`no command module registers ${argv[0]}`);
  const captured = captureOutput();
  const state: ProgramState = { exitCode: 0, abort: options.abort ?? new AbortController() };
  const program = new Command('mrsk').exitOverride().enablePositionalOptions().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  addGlobalOptions(program);
  const bind = makeBind(state, () => captured.out, { runner, timings: options.timings ?? FAST });
  (await entry.load()).register(program, bind);
  const prepare = (command: Command) => {
    for (const sub of command.commands) {
      addGlobalOptions(sub);
      sub.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      const path = command === program ? sub.name() : `${command.name()} ${sub.name()}`;
      if (EVENT_COMMANDS.has(path) && !sub.options.some((o) => o.long === '--json')) sub.option('--json', 'events');
      prepare(sub);
    }
  };
  prepare(program);
  try {
    await program.parseAsync([...argv, '-c', options.config ?? CONFIG_FILE], { from: 'user' });
    return { code: state.exitCode, stdout: captured.stdout(), stderr: captured.stderr() };
  } catch (error) {
    return { code: error instanceof MrskError ? error.exitCode : 70, error, stdout: captured.stdout(), stderr: captured.stderr() };
  }
}

// ---- probe output ------------------------------------------------------------------------------

/** One probe section: `@@mrsk-probe <name>@@` then its text. */
const section = (name: string, text = '') => `\n@@mrsk-probe ${name}@@\n${text}${text && !text.endsWith('\n') ? '\n' : ''}`;

function inspectRecord(c: ObservedContainer): Record<string, unknown> {
  const running = c.state === 'running';
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Created: c.createdAt,
    Image: c.imageId,
    RestartCount: c.restartCount,
    Config: { Image: c.image, Labels: c.labels },
    State: {
      Status: c.state,
      Running: running,
      ExitCode: c.exitCode,
      StartedAt: c.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z',
      ...(c.health ? { Health: { Status: c.health, Log: [] } } : {}),
    },
    NetworkSettings: { Networks: { [MRSK_NETWORK]: { IPAddress: c.ip ?? '' } } },
  };
}

const imageRecord = (i: ObservedImage) => ({ Id: i.id, RepoTags: i.tags, Created: i.createdAt, Config: { Labels: i.labels } });

/**
 * The probe script's stdout for a host in this state, section by section as src/probe/script.ts
 * prints it (docker inspect lines as its formats print them), so that the real parser reads it back.
 */
export function probeOutputOf(host: ReachableHost): string {
  let text = section('home', host.home) + section('version', host.dockerVersion) + section('arch', 'x86_64');
  text += section('apps', (host.otherApps ?? []).join('\n'));
  text += section('containers', host.containers.map((c) => JSON.stringify(inspectRecord(c))).join('\n'));
  text += section('images', host.images.map((i) => JSON.stringify(imageRecord(i))).join('\n'));
  text += section('networks', host.networks.join('\n'));
  if (host.lock) text += section('lock', JSON.stringify(host.lock));
  if (host.release) text += section('release', JSON.stringify(host.release));
  if (host.traefikFileHash) text += section('traefik-file', `# mrsk ${host.traefikFileHash}`);
  if (host.traefik) {
    text += section('traefik-services', JSON.stringify(Object.entries(host.traefik.services).map(([name, s]) => ({ name: `${name}@docker`, ...s }))));
    text += section('traefik-routers', JSON.stringify(Object.entries(host.traefik.routers).map(([name, r]) => ({ name: `${name}@docker`, ...r, service: r.service }))));
  }
  return `${text}${section('end')}`;
}

// ---- the hosts' scripts ------------------------------------------------------------------------

/** The single-quoted shell word shq makes, read back. */
function unquote(word: string): string {
  return word.startsWith("'") ? word.slice(1, -1).replaceAll(`'\\''`, "'") : word;
}

/** The lock record id a lock script tests for (`grep -q '"id":"<id>"' …`). */
const recordId = (script: string) => /"id":"([^"]+)"/.exec(script)?.[1];

/** What a host answers to the deploy lock's acquire script; undefined: the lock is free. */
export type LockAnswer = (host: string, attempt: number) => LockInfo | undefined;

/**
 * Hosts behind a ScriptedRunner that answer mrsk's own scripts: the probe (per host, from
 * `probe()`), the lock (free unless `lockHeld`), its renewal (ours unless `leaseLost`) and
 * release, and audit appends (recorded in `audits`). Docker commands are left to the test's rules.
 */
export class ScriptedHosts {
  readonly runner = new ScriptedRunner();
  /** Audit lines written, in order: host and message (the part after time and performer). */
  readonly audits: { host: string; message: string }[] = [];
  readonly scope: AppScope;
  readonly #probes = new Map<string, ((n: number) => string)[]>();
  readonly #probeCount = new Map<string, number>();
  #lock: LockAnswer = () => undefined;
  #renew: (host: string, renewal: number) => boolean = () => true;

  constructor(config: Pick<Config, 'service' | 'destination' | 'image'>) {
    this.scope = { service: config.service, destination: config.destination };
    const scope = this.scope;
    const probe = probeScript(config.service, config.destination, { imageRepo: config.image });
    this.runner.on({ script: probe }, (call) => {
      const n = (this.#probeCount.get(call.host) ?? 0) + 1;
      this.#probeCount.set(call.host, n);
      const answers = this.#probes.get(call.host);
      if (!answers?.length) return undefined;
      return ok(answers[Math.min(n, answers.length) - 1]!(n));
    });
    this.runner.on({ script: acquireLockScript(scope).script }, (call, n) => {
      const holder = this.#lock(call.host, n);
      return ok(holder ? `${JSON.stringify(holder)}\n${LOCK_HELD}\n` : `${LOCK_ACQUIRED}\n`);
    });
    let renewals = 0;
    this.runner.on({ script: (s) => recordId(s) !== undefined && s === renewLockScript(scope, recordId(s)!).script }, (call) =>
      ok(this.#renew(call.host, ++renewals) ? `${LOCK_RENEWED}\n` : `\n${LOCK_LOST}\n`),
    );
    this.runner.on({ script: (s) => recordId(s) !== undefined && s === releaseLockScript(scope, recordId(s)!).script }, ok());
    // the audit line is the builder's own text around the (quoted) line: read it back and compare whole
    const [head, tail] = auditAppendScript(scope, 'a b').script.split(`'a b'`) as [string, string];
    this.runner.on({ script: (s) => s.startsWith(head) && s.endsWith(tail) }, (call) => {
      const line = unquote(call.script!.slice(head.length, call.script!.length - tail.length));
      if (auditAppendScript(scope, line).script !== call.script) return undefined;
      this.audits.push({ host: call.host, message: line.replace(/^\[[^\]]*\] \[[^\]]*\] (\[[^\]]*\] )?/, '') });
      return ok();
    });
  }

  /** Each probe of `host` answers the next of these (the last one repeats). */
  probe(host: string, ...answers: (string | ReachableHost | ((n: number) => string))[]): this {
    this.#probes.set(host, answers.map((a) => (typeof a === 'function' ? a : () => (typeof a === 'string' ? a : probeOutputOf(a)))));
    return this;
  }

  /** Who holds the lock at each acquire attempt (undefined: free). */
  lockHeld(answer: LockAnswer): this {
    this.#lock = answer;
    return this;
  }

  /** Whether each lease renewal still finds the lock ours. */
  leaseLost(lost: (host: string, renewal: number) => boolean): this {
    this.#renew = (host, n) => !lost(host, n);
    return this;
  }

  /** The calls in order, each named: `h1: probe`, `h1: lock acquire|renew|release`, `h1: audit <message>`, else `h1: <shell line>`. */
  trace(): string[] {
    return this.runner.calls.map((call) => `${call.host}: ${this.#name(call)}`);
  }

  #name(call: ScriptedCall): string {
    const s = call.script;
    if (s === undefined) return call.line;
    if (s.startsWith('# mrsk probe')) return 'probe';
    if (s === acquireLockScript(this.scope).script) return 'lock acquire';
    const id = recordId(s);
    if (id !== undefined && s === renewLockScript(this.scope, id).script) return 'lock renew';
    if (id !== undefined && s === releaseLockScript(this.scope, id).script) return 'lock release';
    const [head, tail] = auditAppendScript(this.scope, 'a b').script.split(`'a b'`) as [string, string];
    if (s.startsWith(head) && s.endsWith(tail)) {
      return `audit ${unquote(s.slice(head.length, s.length - tail.length)).replace(/^\[[^\]]*\] \[[^\]]*\] (\[[^\]]*\] )?/, '')}`;
    }
    return call.line;
  }
}

// ---- docker on the hosts -----------------------------------------------------------------------

/** A container as the docker double holds it. */
export interface ModelContainer {
  readonly id: string;
  name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  running: boolean;
  readonly health?: 'healthy';
  readonly ip: string;
  /** The drain cord's host folder mounted at CORD_MOUNT (mrsk-made app containers). */
  readonly cordDir?: string;
  /** Its cord was cut from inside: Traefik no longer routes to it. */
  drained: boolean;
}

/**
 * Docker on each host, as far as the steps ask it: containers (from the hosts' state) that
 * inspect, start, stop, rename and rm act on, Traefik's API routing every running, undrained
 * container of a service, and ok for pulls, image removals, networks and mrsk's own folder
 * scripts (cords, env files, the state folder). Every docker command is in the runner's calls.
 */
export class DockerDouble {
  readonly #hosts = new Map<string, Map<string, ModelContainer>>();

  constructor(runner: ScriptedRunner, hosts: readonly ReachableHost[], service: string) {
    let ip = 1;
    for (const host of hosts) {
      const containers = new Map<string, ModelContainer>();
      for (const c of host.containers) {
        const app = c.labels['mrsk.service'] === service && c.labels['mrsk.role'] !== undefined;
        containers.set(c.id, {
          id: c.id,
          name: c.name,
          image: c.image,
          labels: c.labels,
          running: c.state === 'running',
          ...(c.health === 'healthy' ? { health: 'healthy' as const } : {}),
          ip: `172.18.0.${++ip}`,
          ...(app ? { cordDir: `${host.home}/.mrsk/${service}/cords/${c.name}` } : {}),
          drained: false,
        });
      }
      this.#hosts.set(host.host, containers);
    }
    const find = (host: string, idOrName: string) => [...(this.#hosts.get(host)?.values() ?? [])].find((c) => c.id === idOrName || c.name === idOrName);
    const noSuch = (what: string) => ({ code: 1, stdout: '', stderr: `Error: No such object: ${what}` });
    const act = (change: (c: ModelContainer, host: string) => void) => (call: ScriptedCall) => {
      const target = find(call.host, call.argv!.at(-1)!);
      if (!target) return noSuch(call.argv!.at(-1)!);
      change(target, call.host);
      return ok(`${target.id}\n`);
    };
    runner
      .on({ prefix: ['docker', 'inspect', '--type', 'container'] }, (call) => {
        const target = find(call.host, call.argv!.at(-1)!);
        return target ? ok(JSON.stringify([inspectOf(target)])) : noSuch(call.argv!.at(-1)!);
      })
      .on({ prefix: ['docker', 'stop'] }, act((c) => (c.running = false)))
      .on({ prefix: ['docker', 'start'] }, act((c) => ((c.running = true), (c.drained = false))))
      .on({ prefix: ['docker', 'rename'] }, (call) => {
        const target = find(call.host, call.argv![2]!);
        if (!target) return noSuch(call.argv![2]!);
        target.name = call.argv![3]!;
        return ok();
      })
      .on({ prefix: ['docker', 'rm'] }, act((c, host) => this.#hosts.get(host)!.delete(c.id)))
      .on({ prefix: ['docker', 'exec'] }, (call) => {
        const [, , name, ...rest] = call.argv!;
        const target = find(call.host, name!);
        if (!target?.running) return { code: 1, stdout: '', stderr: `Error response from daemon: container ${name} is not running` };
        if (rest.join(' ') === `rm -f ${CORD_MOUNT_FILE}`) {
          target.drained = true;
          return ok();
        }
        const url = rest.at(-1) ?? '';
        if (url.endsWith('/ping')) return ok('OK');
        const searched = /\/api\/http\/services\?search=([^&]+)&/.exec(url)?.[1];
        if (searched) {
          const name = decodeURIComponent(searched);
          return ok(JSON.stringify(Object.keys(this.#servers(call.host, name)).length ? [{ name: `${name}@docker` }] : []));
        }
        const service = /\/api\/http\/services\/([^@?]+)@docker$/.exec(url)?.[1];
        if (service) {
          const servers = this.#servers(call.host, service);
          return Object.keys(servers).length ? ok(JSON.stringify({ name: `${service}@docker`, serverStatus: servers })) : { code: 1, stdout: '', stderr: 'wget: server returned error: HTTP/1.1 404 Not Found' };
        }
        return undefined;
      })
      .on({ prefix: ['docker', 'image', 'rm'] }, ok())
      .on({ prefix: ['docker', 'pull'] }, ok())
      .on({ prefix: ['docker', 'image', 'inspect'] }, ok('sha256:0\n'))
      .on({ prefix: ['docker', 'network'] }, ok())
      .on({ prefix: ['docker', 'logout'] }, ok())
      .on({ script: (s) => /^(mkdir -p|rm -f|rm -rf|if \[ -d|rmdir) /.test(s) && !s.includes('docker run') }, ok())
      .on({ script: (s) => s.includes(`docker run -d --name ${'traefik'} `) }, (call) => {
        const id = `traefik-${this.#hosts.get(call.host)!.size}-${call.host}`.padEnd(64, '0');
        this.#hosts.get(call.host)!.set(id, { id, name: 'traefik', image: 'traefik', labels: {}, running: true, ip: '172.18.0.250', drained: false });
        return ok(id);
      });
  }

  /** The containers on a host now. */
  containers(host: string): ModelContainer[] {
    return [...(this.#hosts.get(host)?.values() ?? [])];
  }

  /** Traefik's servers of a service on a host: every running, undrained container of it (none when Traefik is not running). */
  #servers(host: string, service: string): Record<string, string> {
    const containers = this.containers(host);
    if (!containers.some((c) => c.name === 'traefik' && c.running)) return {};
    const port = (c: ModelContainer) => c.labels[`traefik.http.services.${service}.loadbalancer.server.port`];
    return Object.fromEntries(containers.filter((c) => c.running && !c.drained && port(c)).map((c) => [`http://${c.ip}:${port(c)}`, 'UP']));
  }
}

const CORD_MOUNT_FILE = '/run/mrsk/cord/ok';

/** `docker inspect` of one container, the fields src/apply/remote.ts reads. */
function inspectOf(c: ModelContainer): Record<string, unknown> {
  return {
    Id: c.id,
    Name: `/${c.name}`,
    State: { Status: c.running ? 'running' : 'exited', Running: c.running, ExitCode: 0, ...(c.health && c.running ? { Health: { Status: c.health, Log: [] } } : {}) },
    Config: { Labels: c.labels, Healthcheck: c.health ? { Test: ['CMD-SHELL', 'true'] } : null },
    NetworkSettings: { Networks: { [MRSK_NETWORK]: { IPAddress: c.ip } } },
    Mounts: c.cordDir ? [{ Type: 'bind', Source: c.cordDir, Destination: '/run/mrsk/cord' }] : [],
  };
}
