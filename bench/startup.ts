// bench/startup.ts — start-up of mrsk as installed (npm pack → npm install -g into a temp prefix)
// against `node -e 0` measured in the same run, interleaved round by round so the machine's load
// hits every row alike: median wall ms, median CPU time and peak RSS (wait4's rusage, bench/rusage.py), and the ratios.
// Targets (issue 15): `mrsk --version` and `mrsk config` ≤ 150 ms and ≤ 60 MB. Asserts nothing.
//   node --import tsx bench/startup.ts        BENCH_RUNS=20 (default), MRSK_INSTALLED=<prefix> to reuse
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installPackage, repoRoot } from './package.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const RUSAGE = fileURLToPath(new URL('rusage.py', import.meta.url));

interface Sample {
  ms: number;
  /** user + system CPU time: less sensitive to other load than wall time */
  cpuMs: number;
  rssMB: number;
}

/** One run under bench/rusage.py: wall clock, CPU and peak RSS of the child from wait4(2). */
function measure(argv: readonly string[], cwd: string): Sample {
  const result = spawnSync('python3', [RUSAGE, ...argv], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' } });
  const usage = /RUSAGE ([\d.]+) ([\d.]+) (\d+) (-?\d+)/.exec(result.stderr);
  if (!usage || usage[4] !== '0') throw new Error(`${argv.join(' ')} failed:\n${result.stderr}`);
  return { ms: Number(usage[1]), cpuMs: Number(usage[2]), rssMB: Number(usage[3]) / 1024 };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const installed = installPackage();
const app = mkdtempSync(join(tmpdir(), 'mrsk-bench-app-'));
try {
  measure([installed.bin, 'init'], app);
  const checkoutBin = join(repoRoot, 'bin/mrsk.js');
  const rows: [string, readonly string[]][] = [
    ['node -e 0 (reference)', [process.execPath, '-e', '0']],
    ['mrsk --version', [installed.bin, '--version']],
    ['mrsk config', [installed.bin, 'config']],
    ['mrsk --help', [installed.bin, '--help']],
    ['checkout: mrsk --version (tsx)', [process.execPath, checkoutBin, '--version']],
    ['checkout: mrsk config (tsx)', [process.execPath, checkoutBin, 'config']],
  ];
  const samples = rows.map(() => [] as Sample[]);
  const loadBefore = loadavg()[0]!;
  for (let round = 0; round < RUNS; round++) rows.forEach(([, argv], i) => samples[i]!.push(measure(argv, app)));
  const loadAfter = loadavg()[0]!;
  const stat = (i: number, key: keyof Sample) => median(samples[i]!.map((s) => s[key]));
  const reference = { ms: stat(0, 'ms'), cpuMs: stat(0, 'cpuMs'), rssMB: stat(0, 'rssMB') };
  console.log(`\nstart-up, installed package, median of ${RUNS} interleaved runs (${process.version}; load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)} on 2 cores)`);
  console.log('command                           wall ms   × node   CPU ms   × node   peak RSS MB   − node MB   target');
  rows.forEach(([name], i) => {
    const [ms, cpu, rss] = [stat(i, 'ms'), stat(i, 'cpuMs'), stat(i, 'rssMB')];
    const target = name === 'mrsk --version' || name === 'mrsk config' ? `${ms <= 150 ? 'ok' : 'OVER'} ≤150 ms, ${rss <= 60 ? 'ok' : 'OVER'} ≤60 MB` : '';
    console.log(
      `${name.padEnd(32)} ${ms.toFixed(0).padStart(8)} ${(ms / reference.ms).toFixed(2).padStart(8)} ${cpu.toFixed(0).padStart(8)} ${(cpu / reference.cpuMs).toFixed(2).padStart(8)} ${rss.toFixed(1).padStart(13)} ${(rss - reference.rssMB).toFixed(1).padStart(11)}   ${target}`,
    );
  });
} finally {
  rmSync(app, { recursive: true, force: true });
  installed.remove();
}
