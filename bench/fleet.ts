// bench/fleet.ts — mrsk against a fleet: N sshd-only hosts (network namespaces) whose docker CLI
// talks to one shared real dockerd (bench/fleet-bed.sh), so every host reads the same real
// containers. For N = 10, 100, 300 (FLEET_SIZES): a read-only `mrsk plan`, `mrsk details` and
// `mrsk drift` from the installed package (npm pack → npm install -g; MRSK_INSTALLED reuses one):
// wall time, mrsk's own CPU time and peak RSS (wait4, bench/rusage.py), SSH connections opened
// (sshd's "Accepted" log lines) and the most open at once (ss, sampled every 20 ms) against
// ssh.max_concurrent. `mrsk config` in the same run is the start-up reference for CPU per host.
// Targets (issue 15): RSS ≤ 120 MB at 100 hosts, CPU per host ≤ 5 ms, linear growth,
// ssh.max_concurrent honoured. At each N it also prints the reference for CPU per host: one SSH
// login per host running `true` and nothing else (bench/ssh-floor.ts: ssh2 as it comes, and with
// mrsk's two savings; OpenSSH's client), and mrsk's CPU per host as a ratio to that login.
// Needs root; asserts nothing (a reference that fails stops it); the bed comes down on any exit.
//   node --import tsx bench/fleet.ts      FLEET_SIZES=10,100,300  FLEET_MAX_CONCURRENT=30
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPackage } from './package.ts';

const SIZES = (process.env.FLEET_SIZES ?? '10,100,300').split(',').map(Number);
const MAX_CONCURRENT = Number(process.env.FLEET_MAX_CONCURRENT ?? 30);
const BED = fileURLToPath(new URL('fleet-bed.sh', import.meta.url));
const RUSAGE = fileURLToPath(new URL('rusage.py', import.meta.url));
const SSH_FLOOR = fileURLToPath(new URL('ssh-floor.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function bed(...args: string[]): string {
  return execFileSync('bash', [BED, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

let bedUp = false;
const tearDown = () => {
  if (!bedUp) return;
  bedUp = false;
  bed('down');
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    tearDown();
    process.exit(130);
  });
}

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssMB: number;
  code: number;
  opened: number;
  peakOpen: number;
}

/** "Accepted" lines in every host's sshd log: one per SSH connection opened. */
function acceptedConnections(dir: string): number {
  let count = 0;
  for (const name of readdirSync(join(dir, 'log'))) {
    if (name.startsWith('sshd-')) count += readFileSync(join(dir, 'log', name), 'utf8').split('\nAccepted ').length - 1 + (readFileSync(join(dir, 'log', name), 'utf8').startsWith('Accepted ') ? 1 : 0);
  }
  return count;
}

/** Established SSH connections to the fleet right now, seen from here (the root namespace). */
function openConnections(): number {
  const out = spawnSync('ss', ['-Htn', 'state', 'established', 'dst', '10.232.0.0/16', 'dport', '=', ':22'], { encoding: 'utf8' }).stdout ?? '';
  return out.split('\n').filter((line) => line.trim()).length;
}

async function measure(bin: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, dir: string): Promise<Sample> {
  const before = acceptedConnections(dir);
  let peakOpen = 0;
  const child = spawn('python3', [RUSAGE, bin, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const sampler = setInterval(() => (peakOpen = Math.max(peakOpen, openConnections())), 20);
  await new Promise((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  const usage = /RUSAGE ([\d.]+) ([\d.]+) (\d+) (-?\d+)/.exec(stderr);
  if (!usage) throw new Error(`${args.join(' ')}: ${stderr}`);
  if (usage[4] !== '0' && usage[4] !== '2') process.stderr.write(`mrsk ${args.join(' ')} exited ${usage[4]}:\n${stderr.slice(0, 2000)}\n`);
  return { wallMs: Number(usage[1]), cpuMs: Number(usage[2]), rssMB: Number(usage[3]) / 1024, code: Number(usage[4]), opened: acceptedConnections(dir) - before, peakOpen };
}

function configFor(hosts: readonly string[], env: NodeJS.ProcessEnv): string {
  return [
    'service: fleet',
    'image: mkf/app',
    'servers:',
    '  web:',
    ...hosts.map((host) => `    - ${host}`),
    'registry:',
    '  server: 10.232.0.1:5000',
    '  username: fleet',
    '  password:',
    '    - FLEET_REGISTRY_PASSWORD',
    'ssh:',
    '  user: root',
    '  keys:',
    `    - ${env.FLEET_KEY}`,
    `  known_hosts_file: ${env.FLEET_KNOWN_HOSTS}`,
    '  strict_host_key_checking: "true"',
    `  max_concurrent: ${MAX_CONCURRENT}`,
    '',
  ].join('\n');
}

const installed = installPackage();
const work = mkdtempSync(join(tmpdir(), 'mrsk-fleet-'));
try {
  const largest = Math.max(...SIZES);
  const rows: { size: number; samples: Record<string, Sample> }[] = [];
  const t0 = performance.now();
  bedUp = true;
  bed('up', String(largest));
  console.log(`\nfleet bed: ${largest} hosts up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const dir = process.env.FLEET_DIR ?? '/tmp/mkf-bed';
  const allHosts = readFileSync(join(dir, 'hosts'), 'utf8').split('\n').filter(Boolean);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', FLEET_REGISTRY_PASSWORD: 'unused', FLEET_KEY: join(dir, 'id_ed25519'), FLEET_KNOWN_HOSTS: join(dir, 'known_hosts') };
  const commands: [string, string[]][] = [
    ['config', ['config']],
    ['plan', ['plan', '--version', 'v1']],
    ['details', ['details']],
    ['drift', ['drift']],
  ];
  console.log(`read-only commands over N hosts, installed package, ssh.max_concurrent ${MAX_CONCURRENT}, best wall of 3 up to 10 hosts, one run above (load average ${loadavg()[0]!.toFixed(1)} on 2 cores)`);
  console.log('hosts  command   exit   wall ms   ms/host   CPU ms   CPU ms/host*   peak RSS MB   connections   most open at once');
  for (const size of SIZES) {
    const app = join(work, String(size));
    mkdirSync(join(app, 'config'), { recursive: true });
    writeFileSync(join(app, 'config/deploy.yml'), configFor(allHosts.slice(0, size), env));
    let startupCpu = 0;
    const row: Record<string, Sample> = {};
    for (const [name, args] of commands) {
      let best: Sample | undefined;
      for (let round = 0; round < (size <= 10 ? 3 : 1); round++) {
        const sample = await measure(installed.bin, args, app, env, dir);
        if (!best || sample.wallMs < best.wallMs) best = sample;
      }
      if (name === 'config') startupCpu = best!.cpuMs;
      row[name] = best!;
      const perHost = name === 'config' ? '' : ((best!.cpuMs - startupCpu) / size).toFixed(2);
      console.log(
        `${String(size).padStart(5)}  ${name.padEnd(8)} ${String(best!.code).padStart(5)} ${best!.wallMs.toFixed(0).padStart(9)} ${(best!.wallMs / size).toFixed(1).padStart(9)} ${best!.cpuMs.toFixed(0).padStart(8)} ${perHost.padStart(14)} ${best!.rssMB.toFixed(1).padStart(13)} ${String(best!.opened).padStart(13)} ${String(best!.peakOpen).padStart(19)}`,
      );
    }
    rows.push({ size, samples: row });
    // The references: one SSH login per host running `true`, at most MAX_CONCURRENT at once, with
    // nothing of mrsk around it; CPU per host beyond the driver's own cost at the same N.
    const hostsFile = join(app, 'hosts');
    writeFileSync(hostsFile, `${allHosts.slice(0, size).join('\n')}\n`);
    const floor = ['--import', 'tsx', SSH_FLOOR];
    const xargs = (command: string) => ['-c', `xargs -P ${MAX_CONCURRENT} -I{} ${command} < ${hostsFile}`];
    const openssh = `ssh -F none -i ${env.FLEET_KEY} -o UserKnownHostsFile=${env.FLEET_KNOWN_HOSTS} -o StrictHostKeyChecking=yes -o BatchMode=yes -o KexAlgorithms=curve25519-sha256 root@{} true`;
    const references: [string, [string, string[]], [string, string[]]][] = [
      ['ssh2', ['node', [...floor, 'ssh2', env.FLEET_KEY, env.FLEET_KNOWN_HOSTS, String(MAX_CONCURRENT), ...allHosts.slice(0, size)]], ['node', [...floor, 'ssh2', env.FLEET_KEY, env.FLEET_KNOWN_HOSTS, '1']]],
      ['ssh2-lean', ['node', [...floor, 'ssh2-lean', env.FLEET_KEY, env.FLEET_KNOWN_HOSTS, String(MAX_CONCURRENT), ...allHosts.slice(0, size)]], ['node', [...floor, 'ssh2-lean', env.FLEET_KEY, env.FLEET_KNOWN_HOSTS, '1']]],
      ['openssh', ['bash', xargs(openssh)], ['bash', xargs('true')]],
    ];
    const referencePerHost: Record<string, number> = {};
    for (const [name, [bin, args], [baseBin, baseArgs]] of references) {
      // the least CPU of as many rounds as the commands above get, for the run and its driver alike
      let sample: Sample | undefined;
      let base: Sample | undefined;
      for (let round = 0; round < (size <= 10 ? 3 : 1); round++) {
        const [s, b] = [await measure(bin, args, repoRoot, env, dir), await measure(baseBin, baseArgs, repoRoot, env, dir)];
        if (!sample || s.cpuMs < sample.cpuMs) sample = s;
        if (!base || b.cpuMs < base.cpuMs) base = b;
      }
      if (!sample || !base) throw new Error('no rounds');
      if (sample.code !== 0 || base.code !== 0) throw new Error(`the ${name} reference failed (exit ${sample.code}, its start-up ${base.code}): see above`);
      console.log(
        `${String(size).padStart(5)}  ${`(${name})`.padEnd(11)} ${String(sample.code).padStart(2)} ${sample.wallMs.toFixed(0).padStart(9)} ${(sample.wallMs / size).toFixed(1).padStart(9)} ${sample.cpuMs.toFixed(0).padStart(8)} ${((sample.cpuMs - base.cpuMs) / size).toFixed(2).padStart(14)} ${sample.rssMB.toFixed(1).padStart(13)} ${String(sample.opened).padStart(13)} ${String(sample.peakOpen).padStart(19)}`,
      );
      referencePerHost[name] = (sample.cpuMs - base.cpuMs) / size;
    }
    const lean = referencePerHost['ssh2-lean']!;
    const mrskPerHost = (name: string) => (row[name]!.cpuMs - row.config!.cpuMs) / size;
    console.log(`${String(size).padStart(5)}  mrsk's CPU per host ÷ one bare login's (ssh2-lean): ${commands.slice(1).map(([name]) => `${name} ${(mrskPerHost(name) / lean).toFixed(2)} ×`).join(', ')}`);
  }
  // Linear growth: the cost of one more host between two fleet sizes, and RSS per 100 hosts.
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1]!, rows[i]!];
    const parts = commands.slice(1).map(([name]) => {
      const [x, y] = [a.samples[name]!, b.samples[name]!];
      const span = b.size - a.size;
      return `${name} ${((y.cpuMs - x.cpuMs) / span).toFixed(2)} ms CPU, ${((y.wallMs - x.wallMs) / span).toFixed(1)} ms wall, ${(((y.rssMB - x.rssMB) / span) * 100).toFixed(1)} MB RSS per 100`;
    });
    console.log(`one more host, ${a.size} → ${b.size}: ${parts.join('; ')}`);
  }
  console.log('* CPU ms/host: (CPU of the command − CPU of `mrsk config` at the same N) / N: what each host costs mrsk beyond start-up and config load');
  console.log(
    '  (ssh2), (ssh2-lean), (openssh): the reference, one SSH login per host running `true` and nothing else: ssh2 as it comes; ssh2 with the two savings mrsk makes (src/ssh/fast-key.ts); ' +
      "OpenSSH's client with curve25519 (its default sntrup761x25519 kex costs far more), through xargs. CPU ms/host is beyond the driver's own cost at the same N (ssh2: its start-up with no hosts; openssh: xargs running `true` per host)",
  );
} finally {
  tearDown();
  rmSync(work, { recursive: true, force: true });
  installed.remove();
}
