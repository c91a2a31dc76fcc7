// bench/fleet.ts — mrsk against a fleet: N sshd-only hosts (network namespaces) whose docker CLI
// talks to one shared real dockerd (bench/fleet-bed.sh), so every host reads the same real
// containers. For N = 10, 100, 300 (FLEET_SIZES): a read-only `mrsk plan`, `mrsk details` and
// `mrsk drift` from the installed package (npm pack → npm install -g; MRSK_INSTALLED reuses one):
// wall time, mrsk's own CPU time and peak RSS (wait4, bench/rusage.py), SSH connections opened
// (sshd's "Accepted" log lines) and the most open at once (ss, sampled every 20 ms) against
// ssh.max_concurrent. `mrsk config` in the same run is the start-up reference for CPU per host.
// Targets (issue 15): RSS ≤ 120 MB at 100 hosts, CPU per host ≤ 5 ms, linear growth,
// ssh.max_concurrent honoured. Needs root; asserts nothing; the bed comes down on any exit.
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
} finally {
  tearDown();
  rmSync(work, { recursive: true, force: true });
  installed.remove();
}
