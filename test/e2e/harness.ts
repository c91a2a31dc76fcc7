// The e2e harness: brings the test bed up (test/bed/testbed.sh), makes sure the real Traefik
// image and the example app v1 are in the bed's registry, and runs the real `mrsk` bin as a
// subprocess against fixtures/e2e/deploy.yml. Traffic goes only to the bed's addresses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/e2e/harness.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The e2e deployment config every `bed.mrsk()` call uses. */
export const deployConfig = join(repoRoot, 'fixtures', 'e2e', 'deploy.yml');
const bedScript = join(repoRoot, 'test', 'bed', 'testbed.sh');

/** What a finished subprocess left behind. */
export interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock duration in milliseconds. */
  readonly ms: number;
}

/** Options for running a subprocess. */
export interface RunOptions {
  /** Extra environment variables (merged over the inherited ones). */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to the process's stdin, which is then closed. */
  readonly input?: string;
  /** Killed (SIGKILL) after this many milliseconds; the result then has code 124. */
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/** An HTTP answer as `bed.curl` sees it. status 0 means no answer (refused, reset, timed out). */
export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
  readonly error?: string;
  /** httpsGet only: the Location header of the answer, if any. */
  readonly location?: string;
  /** httpsGet only, over HTTPS: the SHA-256 fingerprint of the certificate the server presented. */
  readonly certificate?: string;
}

/** A running test bed, as `bringUp` returns it. */
export interface Bed {
  /** The bed's host addresses, host 1 first (10.231.7.11, 10.231.7.12, … by default). */
  readonly hosts: readonly string[];
  /** The addresses of the hosts that run rootful Podman and no dockerd (`up N --podman M`). */
  readonly podmanHosts: readonly string[];
  /** `host:port` of the bed's registry. */
  readonly registry: string;
  /** The MRSK_TESTBED_* and MRSK_REGISTRY_PASSWORD exports of `testbed.sh env`. */
  readonly env: Readonly<Record<string, string>>;
  /** The value of the app's secret APP_SECRET in this process's mrsk runs (never to be printed). */
  readonly appSecret: string;
  /**
   * Runs `node bin/mrsk.js ARGS… -c fixtures/e2e/deploy.yml` (unless ARGS name a config; MRSK_E2E_BIN
   * names another mrsk to run, e.g. an installed package) with the
   * bed's environment, APP_SECRET, and DOCKER_HOST/DOCKER_CONFIG pointing at the bed's builder.
   */
  mrsk(args: readonly string[], options?: RunOptions): Promise<ProcessResult>;
  /** Runs a shell command on host I (1-based) over SSH as root, with the bed's key and known_hosts. */
  ssh(hostIndex: number, command: string, options?: RunOptions): Promise<ProcessResult>;
  /** One HTTP GET (2 s timeout by default). */
  curl(url: string, timeoutMs?: number): Promise<HttpResult>;
  /** Removes the bed (`testbed.sh down`), unless MRSK_E2E_KEEP_BED=1. */
  tearDown(): Promise<void>;
}

/** Runs a command and collects its output; never rejects on a non-zero exit. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 300_000);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        // a signal (or our timeout) is a failure, never a success
        code: timedOut ? 124 : (code ?? (signal ? 128 : 1)),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        ms: Math.round(performance.now() - started),
      });
    });
    child.stdin.on('error', () => {}); // a process that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Like `run`, but throws with the captured output when the exit code is not 0. */
export async function runOk(command: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** Runs test/bed/testbed.sh with a subcommand (the bed's own TESTBED_* overrides pass through). */
export function testbed(args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  return run('bash', [bedScript, ...args], options);
}

/** Parses the `export NAME=VALUE` lines of `testbed.sh env` by letting bash evaluate them. */
async function readBedEnv(): Promise<Record<string, string>> {
  const script = `eval "$(bash ${shellQuote(bedScript)} env)" && env -0`;
  const { stdout } = await runOk('bash', ['-c', script]);
  const env: Record<string, string> = {};
  for (const entry of stdout.split('\0')) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    if (eq > 0 && (name.startsWith('MRSK_TESTBED_') || name === 'MRSK_REGISTRY_PASSWORD')) env[name] = entry.slice(eq + 1);
  }
  return env;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Whether the bed's registry has REPOSITORY:TAG (asked with the bed's login). */
export async function registryHas(env: Readonly<Record<string, string>>, repository: string, tag: string): Promise<boolean> {
  const login = Buffer.from(`${env.MRSK_TESTBED_REGISTRY_USER}:${env.MRSK_REGISTRY_PASSWORD}`).toString('base64');
  const response = await fetch(`http://${env.MRSK_TESTBED_REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { authorization: `Basic ${login}`, accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    signal: AbortSignal.timeout(5000),
  });
  return response.status === 200;
}

/**
 * The bed's Pebble (Let's Encrypt's test CA), from the MRSK_TESTBED_PEBBLE_* exports of
 * `testbed.sh env`. Traefik uses it with `certificatesresolvers.<r>.acme.caServer=<directory>`,
 * `….acme.httpChallenge.entryPoint=<the :80 entrypoint>` and the environment variable
 * `LEGO_CA_CERTIFICATES=<caCertPath as mounted in its container>`.
 */
export interface Pebble {
  /** The ACME directory URL (https://<bridge>:14000/dir). */
  readonly directory: string;
  /** The management API's base URL (https://<bridge>:15000); GET /roots/0 is the issuing root. */
  readonly management: string;
  /** Pebble's minica root (PEM file), which signs Pebble's own HTTPS certificate: what an ACME client trusts. */
  readonly caCertPath: string;
  /** `host:port` of pebble-challtestsrv's DNS, Pebble's resolver for HTTP-01. */
  readonly dns: string;
  /** Pebble's log: one `Added order "<id>" to the db` line per new ACME order. */
  readonly logPath: string;
}

/** The bed's Pebble; throws when `testbed.sh env` recorded none (a bed from before Pebble, or none up). */
export function pebbleOf(env: Readonly<Record<string, string>>): Pebble {
  const pick = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`the test bed records no ${name}: is Pebble up (testbed.sh up)?`);
    return value;
  };
  return {
    directory: pick('MRSK_TESTBED_PEBBLE_DIRECTORY'),
    management: pick('MRSK_TESTBED_PEBBLE_MANAGEMENT'),
    caCertPath: pick('MRSK_TESTBED_PEBBLE_CA'),
    dns: pick('MRSK_TESTBED_PEBBLE_DNS'),
    logPath: pick('MRSK_TESTBED_PEBBLE_LOG'),
  };
}

/**
 * The root certificate (PEM) that signs what Pebble issues, from its management API, fetched
 * with Pebble's HTTPS certificate verified. Pebble makes a new one at each start.
 */
export async function pebbleRoot(env: Readonly<Record<string, string>>): Promise<string> {
  const pebble = pebbleOf(env);
  const answer = await httpsGet(`${pebble.management}/roots/0`, { ca: await readFile(pebble.caCertPath, 'utf8') });
  if (answer.status !== 200) throw new Error(`Pebble GET /roots/0: ${answer.status} ${answer.error ?? answer.body}`);
  return answer.body;
}

/**
 * Makes the bed's DNS (pebble-challtestsrv) answer A queries for NAME with exactly ADDRESSES
 * (bed addresses only), so that Pebble's HTTP-01 validation reaches those hosts on port 80.
 */
export async function addDnsRecord(name: string, ...addresses: string[]): Promise<void> {
  await runOk('bash', [bedScript, 'dns-add', name, ...addresses], { timeoutMs: 30_000 });
}

/** How many ACME orders Pebble has taken since it started (its `Added order` log lines). */
export async function pebbleOrderCount(env: Readonly<Record<string, string>>): Promise<number> {
  const log = await readFile(pebbleOf(env).logPath, 'utf8');
  return log.match(/^Pebble .* Added order "[^"]+" to the db$/gm)?.length ?? 0;
}

/** Options of `httpsGet`. */
export interface HttpsGetOptions {
  /** The only roots trusted (PEM); nothing is ever accepted unverified. Default: Node's bundled roots. */
  readonly ca?: string | readonly string[];
  /** Connect to this address instead of resolving the URL's host name (SNI and Host stay the name). */
  readonly address?: string;
  /** Default 2000 ms. */
  readonly timeoutMs?: number;
  /** An agent whose TLS sessions later requests resume (a new connection each time still); default none. */
  readonly agent?: HttpsAgent;
}

/**
 * One HTTPS GET with certificate verification against `ca`; never throws (status 0 and `error`,
 * e.g. a certificate error code, describe a request that got no answer). An http: URL is sent
 * as plain HTTP (with `address` and the URL's Host), to see redirects.
 */
export function httpsGet(url: string, options: HttpsGetOptions = {}): Promise<HttpResult> {
  const started = performance.now();
  const target = new URL(url);
  const finish = (status: number, body: string, error?: string): HttpResult => ({
    status,
    body,
    ms: Math.round(performance.now() - started),
    ...(error === undefined ? {} : { error }),
  });
  const plain = target.protocol === 'http:';
  return new Promise((resolvePromise) => {
    const request = (plain ? httpRequest : httpsRequest)(
      {
        host: options.address ?? target.hostname,
        port: target.port || (plain ? 80 : 443),
        path: `${target.pathname}${target.search}`,
        method: 'GET',
        // SNI carries names only (RFC 6066); an IP is still what the certificate is checked against
        ...(isIP(target.hostname) ? {} : { servername: target.hostname }),
        // ACME servers (Pebble, RFC 8555 6.1) refuse requests without a User-Agent
        headers: { host: target.host, 'user-agent': 'mrsk-e2e' },
        ...(options.ca === undefined ? {} : { ca: options.ca as string | string[] }),
        agent: plain ? false : (options.agent ?? false),
        timeout: options.timeoutMs ?? 2000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        const peer = plain ? undefined : (response.socket as TLSSocket).getPeerCertificate?.();
        const extra = {
          ...(typeof response.headers.location === 'string' ? { location: response.headers.location } : {}),
          ...(peer?.fingerprint256 ? { certificate: peer.fingerprint256 } : {}),
        };
        response.on('end', () => resolvePromise({ ...finish(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')), ...extra }));
        response.on('error', (error: NodeJS.ErrnoException) => resolvePromise(finish(0, '', error.code ?? String(error))));
      },
    );
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => resolvePromise(finish(0, '', error.code ?? String(error))));
    request.end();
  });
}

let bedPromise: Promise<Bed> | undefined;

/**
 * Brings the bed up with N hosts (once per process; later calls share it), then pushes the
 * Traefik image (built from source once, cached in /var/cache/mrsk) and the app v1 if the
 * registry lacks them. Set MRSK_E2E_KEEP_BED=1 to leave the bed up after the tests.
 */
export function bringUp(hostCount = 2, options: { readonly podman?: number } = {}): Promise<Bed> {
  bedPromise ??= createBed(hostCount, options.podman ?? 0).catch(async (error: unknown) => {
    // a half-made bed is no use to anyone: take it down unless asked to keep it for a look
    if (process.env.MRSK_E2E_KEEP_BED !== '1') await testbed(['down'], { timeoutMs: 120_000 });
    throw error;
  });
  return bedPromise;
}

async function createBed(hostCount: number, podman: number): Promise<Bed> {
  const args = ['up', String(hostCount), ...(podman > 0 ? ['--podman', String(podman)] : [])];
  const up = await testbed(args, { timeoutMs: 180_000 });
  if (up.code !== 0) throw new Error(`testbed.sh ${args.join(' ')} failed (exit ${up.code}):\n${up.stderr}`);
  const env = await readBedEnv();
  // Traefik first: building it from source (first run only) is the long pole
  const traefik = await runOk('bash', [join(repoRoot, 'test', 'bed', 'traefik-image.sh')], { timeoutMs: 3_600_000 });
  let appMs = 0;
  if (!(await registryHas(env, 'demo-app', 'v1'))) {
    appMs = (await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v1'], { timeoutMs: 180_000 })).ms;
  }
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  console.log(`time: bed up ${seconds(up.ms)}, traefik image ${seconds(traefik.ms)}, app v1 ${seconds(appMs)}`);
  const hosts = (env.MRSK_TESTBED_HOSTS ?? '').split(' ').filter(Boolean);
  const appSecret = `app-secret-${randomBytes(12).toString('hex')}`;
  const prefix = env.MRSK_TESTBED_PREFIX ?? 'mrsk';

  const mrskEnv: Record<string, string> = {
    ...env,
    APP_SECRET: appSecret,
    MRSK_APP_CONTEXT: join(repoRoot, 'fixtures', 'app'),
    // `mrsk deploy` builds with the local docker client: point it at the bed's builder node
    DOCKER_HOST: env.MRSK_TESTBED_BUILDER_DOCKER_HOST ?? '',
    DOCKER_CONFIG: env.MRSK_TESTBED_BUILDER_DOCKER_CONFIG ?? '',
    DOCKER_BUILDKIT: '0',
    NO_COLOR: '1',
  };
  let tornDown = false;
  return {
    hosts,
    podmanHosts: (env.MRSK_TESTBED_PODMAN_HOSTS ?? '').split(' ').filter(Boolean),
    registry: env.MRSK_TESTBED_REGISTRY ?? '',
    env,
    appSecret,
    mrsk(args, options = {}) {
      const configArgs = args.includes('-c') || args.includes('--config') ? [] : ['-c', deployConfig];
      // MRSK_E2E_BIN: an installed mrsk (bench/deploy.ts measures the package users install)
      const bin = process.env.MRSK_E2E_BIN;
      return run(bin ?? process.execPath, [...(bin ? [] : [join(repoRoot, 'bin', 'mrsk.js')]), ...args, ...configArgs], {
        ...options,
        env: { ...mrskEnv, ...options.env },
      });
    },
    ssh(hostIndex, command, options = {}) {
      if (hostIndex < 1 || hostIndex > hosts.length) throw new RangeError(`no host ${hostIndex} in a bed of ${hosts.length}`);
      return run('ssh', ['-F', env.MRSK_TESTBED_SSH_CONFIG ?? '', `${prefix}-h${hostIndex}`, command], options);
    },
    curl,
    async tearDown() {
      if (tornDown || process.env.MRSK_E2E_KEEP_BED === '1') return;
      tornDown = true;
      bedPromise = undefined;
      const down = await testbed(['down'], { timeoutMs: 120_000 });
      if (down.code !== 0) throw new Error(`testbed.sh down failed (exit ${down.code}):\n${down.stderr}`);
    },
  };
}

/** One HTTP GET; never throws (status 0 and `error` describe a request that got no answer). */
export async function curl(url: string, timeoutMs = 2000): Promise<HttpResult> {
  const started = performance.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const body = await response.text();
    return { status: response.status, body, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { status: 0, body: '', ms: Math.round(performance.now() - started), error: cause ?? String(error) };
  }
}

/** A request of the load generator that did not get a 200. */
export interface LoadFailure {
  readonly url: string;
  /** Milliseconds since the load started. */
  readonly at: number;
  readonly status: number;
  readonly error?: string;
}

/** Totals of one `load` run. */
export interface LoadResult {
  readonly sent: number;
  readonly failed: number;
  readonly failures: readonly LoadFailure[];
  /** 200 answers by body (e.g. `v1 <hostname>`), to see which versions served. */
  readonly bodies: Readonly<Record<string, number>>;
}

/** What `load` sends: GETs to `urls` in turn, `rps` per second, for `durationMs`. */
export interface LoadOptions {
  readonly urls: readonly string[];
  readonly rps?: number;
  readonly durationMs: number;
  /** Per-request timeout (default 2000 ms). */
  readonly timeoutMs?: number;
  /** Stops early when aborted (requests in flight still finish). */
  readonly signal?: AbortSignal;
}

/**
 * A bounded load generator: starts a request every 1000/rps ms, round-robin over `urls`, until
 * `durationMs` has passed (or `signal` aborts), then waits for the requests in flight. A request
 * fails when it gets no answer or an answer other than 200.
 */
export async function load(options: LoadOptions): Promise<LoadResult> {
  if (options.urls.length === 0) throw new RangeError('load: no urls');
  const rps = options.rps ?? 25;
  const intervalMs = 1000 / rps;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  const failures: LoadFailure[] = [];
  const bodies: Record<string, number> = {};
  let sent = 0;
  while (performance.now() - started < options.durationMs && !options.signal?.aborted) {
    const url = options.urls[sent % options.urls.length] as string;
    const at = Math.round(performance.now() - started);
    sent += 1;
    inFlight.push(
      curl(url, options.timeoutMs ?? 2000).then((answer) => {
        if (answer.status === 200) {
          const key = answer.body.trim();
          bodies[key] = (bodies[key] ?? 0) + 1;
        } else {
          failures.push({ url, at, status: answer.status, ...(answer.error ? { error: answer.error } : {}) });
        }
      }),
    );
    // schedule by the clock, so slow requests do not lower the rate
    const nextAt = started + sent * intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, nextAt - performance.now())));
  }
  await Promise.all(inFlight);
  failures.sort((a, b) => a.at - b.at);
  return { sent, failed: failures.length, failures, bodies };
}

/** Whether `mrsk <command>` is a registered command of the bin (its --help lists it). */
export async function mrskHasCommand(command: string): Promise<boolean> {
  if (!existsSync(join(repoRoot, 'src', 'commands', `${command}.ts`))) return false;
  const help = await run(process.execPath, [join(repoRoot, 'bin', 'mrsk.js'), '--help'], { timeoutMs: 60_000 });
  return new RegExp(`^\\s+${command}\\b`, 'm').test(help.stdout);
}

/** Polls CHECK every 200 ms until it returns a value other than undefined; throws after MS, saying what it waited for. */
export async function waitFor<T>(what: () => string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Runs fn while a load generator sends `rpsPerUrl` (default 25) requests/s to each URL: the load
 * starts first and every URL has answered 200 once before fn runs (polled, 10 s deadline), and it
 * goes on for `afterMs` (default 1 s) after fn, the window in which a late failure would show.
 */
export async function underLoad<T>(
  urls: readonly string[],
  fn: () => Promise<T>,
  options: { readonly rpsPerUrl?: number; readonly afterMs?: number } = {},
): Promise<{ result: T; traffic: LoadResult }> {
  const stop = new AbortController();
  const traffic = load({ urls, rps: (options.rpsPerUrl ?? 25) * urls.length, durationMs: 600_000, signal: stop.signal });
  try {
    await waitFor(() => `every one of ${urls.join(', ')} to answer 200 before the change`, 10_000, async () =>
      (await Promise.all(urls.map((url) => curl(url)))).every((answer) => answer.status === 200) ? true : undefined);
    const result = await fn();
    // a measurement window, not a wait for a condition
    await new Promise((r) => setTimeout(r, options.afterMs ?? 1000));
    return { result, traffic: await (stop.abort(), traffic) };
  } finally {
    stop.abort();
    await traffic;
  }
}

/** Prints what a load run saw and fails unless it sent at least `minSent` requests and none failed. */
export function assertNoFailures(name: string, traffic: LoadResult, minSent = 20): void {
  console.log(`${name}: ${traffic.sent} requests sent, ${traffic.failed} failed; served: ${JSON.stringify(traffic.bodies)}`);
  assert.ok(traffic.sent >= minSent, `the load generator sent only ${traffic.sent} requests`);
  assert.equal(traffic.failed, 0, `failed requests: ${JSON.stringify(traffic.failures.slice(0, 10))}`);
}

/** One name served by one or more bed hosts, as a client with several A records sees it. */
export interface HttpsTarget {
  /** https://NAME/PATH */
  readonly url: string;
  /** The addresses NAME resolves to; each request starts at the next one in turn. */
  readonly addresses: readonly string[];
}

/** Totals of one `httpsLoad` run. */
export interface HttpsLoadResult extends LoadResult {
  /** Requests sent to another address after the first refused the connection (or failed, with retry 'any'). */
  readonly fellBack: number;
  /** Seconds the load ran. */
  readonly seconds: number;
  /** Milliseconds of the slowest answered request. */
  readonly slowestMs: number;
}

/**
 * HTTPS under load, verified against `ca` only: like `load`, `rps` requests per second round-robin
 * over `targets`. A request whose connection is refused (nothing listens: a Traefik being replaced)
 * goes to the name's next address, as clients do with several A records; any other error, a TLS
 * failure or a status other than 200 is a failure.
 */
export async function httpsLoad(options: {
  readonly targets: readonly HttpsTarget[];
  readonly ca: string;
  readonly rps: number;
  readonly durationMs: number;
  /** Per-request timeout (default 10000 ms: a client's patience, not a health check's). */
  readonly timeoutMs?: number;
  /**
   * When a request goes to the name's next address: 'refused' (default) only when the connection
   * is refused, as browsers do; 'any' after any failure (reset, timeout, a status other than 200),
   * as a load balancer that retries on the next upstream does. Failures then count requests no
   * address answered; `fellBack` counts those the first address failed.
   */
  readonly retry?: 'refused' | 'any';
  readonly signal?: AbortSignal;
}): Promise<HttpsLoadResult> {
  if (options.targets.length === 0) throw new RangeError('httpsLoad: no targets');
  const intervalMs = 1000 / options.rps;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  const failures: LoadFailure[] = [];
  const bodies: Record<string, number> = {};
  let sent = 0;
  let fellBack = 0;
  let slowestMs = 0;
  const unreachable = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);
  // a new connection per request (no keep-alive), resuming TLS sessions as browsers do: full
  // handshakes on every request would make the load generator, not the hosts, the bottleneck
  const agent = new HttpsAgent({ keepAlive: false, maxCachedSessions: 1000 });
  while (performance.now() - started < options.durationMs && !options.signal?.aborted) {
    const target = options.targets[sent % options.targets.length] as HttpsTarget;
    const first = Math.floor(sent / options.targets.length);
    const at = Math.round(performance.now() - started);
    sent += 1;
    inFlight.push(
      (async () => {
        let answer: HttpResult | undefined;
        for (let i = 0; i < target.addresses.length; i += 1) {
          const address = target.addresses[(first + i) % target.addresses.length] as string;
          answer = await httpsGet(target.url, { ca: options.ca, address, agent, timeoutMs: options.timeoutMs ?? 10_000 });
          const retry = options.retry === 'any' ? answer.status !== 200 : answer.status === 0 && unreachable.has(answer.error ?? '');
          if (!retry) {
            if (i > 0) fellBack += 1;
            break;
          }
        }
        if (answer?.status === 200) {
          slowestMs = Math.max(slowestMs, answer.ms);
          const key = answer.body.trim();
          bodies[key] = (bodies[key] ?? 0) + 1;
        } else {
          failures.push({ url: target.url, at, status: answer?.status ?? 0, ...(answer?.error ? { error: answer.error } : {}) });
        }
      })(),
    );
    const nextAt = started + sent * intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, nextAt - performance.now())));
  }
  await Promise.all(inFlight);
  agent.destroy();
  failures.sort((a, b) => a.at - b.at);
  return { sent, failed: failures.length, failures, bodies, fellBack, slowestMs, seconds: Math.round((performance.now() - started) / 100) / 10 };
}
