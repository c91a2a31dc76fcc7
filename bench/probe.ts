// bench/probe.ts — a no-op `mrsk plan` against the test bed, in process: wall time, SSH
// connections opened per host and commands (round trips) per host, for 1 host and for every
// host of the bed; then the server-side cost of one host's probe on the idle bed: the probe script
// run on the host itself under bash's `time` (wall, and CPU of the script and every process it
// waited for), and how many docker CLI processes it starts (a counting `docker` first on PATH).
// Target (issue 15): ≤ 150 ms per host. Prints tables; asserts nothing.
//   node --import tsx bench/probe.ts             (needs root: it brings the test bed up)
//   a bed of its own: TESTBED_PREFIX=mk15 TESTBED_NET=10.231.15 TESTBED_DIR=/tmp/mk15-bed
import { loadConfig } from '../src/config/load.ts';
import { createSshRunner } from '../src/ssh/runner.ts';
import { sshRunnerOptionsFromConfig } from '../src/commands/shared/ssh-options.ts';
import { probeHosts } from '../src/probe/probe.ts';
import { probeScript } from '../src/probe/script.ts';
import { cpus, loadavg } from 'node:os';
import { deriveDesired } from '../src/desired/desired.ts';
import { diff } from '../src/plan/diff.ts';
import { bringUp } from '../test/e2e/harness.ts';
import { benchConfig } from './bed-config.ts';

const bed = await bringUp(Number(process.env.BENCH_HOSTS ?? 3));
try {
  // deploy once so the plan is a no-op and the probe reads real containers and Traefik
  const file = await benchConfig(bed);
  await bed.mrsk(['remove', '-y', '-c', file]);
  const setup = await bed.mrsk(['setup', '--skip-push', '--version', 'v1', '-q', '-c', file]);
  if (setup.code !== 0) throw new Error(setup.stderr);
  const env = { ...process.env, ...bed.env, APP_SECRET: bed.appSecret };
  Object.assign(process.env, env);
  const config = await loadConfig({ file, cwd: process.cwd(), env });
  console.log('\nno-op mrsk plan (probe + desired + diff), in process, best of 5');
  console.log('hosts   wall ms   connections/host   commands/host   steps');
  for (const count of [...new Set([1, config.hosts.length])]) {
    const hosts = config.hosts.slice(0, count);
    let best = Infinity;
    let line = '';
    for (let round = 0; round < 5; round++) {
      const runner = createSshRunner(sshRunnerOptionsFromConfig(config));
      const t0 = performance.now();
      const snapshot = await probeHosts(runner, [...hosts], config.service, config.destination);
      const plan = diff(deriveDesired(config, 'v1'), snapshot, { hosts: [...hosts] });
      const ms = performance.now() - t0;
      const stats = Object.values(runner.stats());
      await runner.close();
      if (ms < best) {
        best = ms;
        const connections = Math.max(...stats.map((s) => s.connections));
        const commands = Math.max(...stats.map((s) => s.commands));
        line = `${String(count).padStart(5)}   ${ms.toFixed(0).padStart(7)}   ${String(connections).padStart(16)}   ${String(commands).padStart(13)}   ${String(plan.steps.length).padStart(5)}`;
      }
    }
    console.log(line);
  }
  // Server side: the same script a probe sends, run on host 1 itself, 10 times.
  const script = probeScript(config.service, config.destination, { imageRepo: config.image });
  const encoded = Buffer.from(script).toString('base64');
  const remote = [
    'set -e',
    'dir=$(mktemp -d)',
    `echo ${encoded} | base64 -d > "$dir/probe.sh"`,
    // a docker that counts its runs, first on PATH
    'mkdir "$dir/bin"',
    `printf '#!/bin/sh\necho >> %s/count\nexec %s "$@"\n' "$dir" "$(command -v docker)" > "$dir/bin/docker"`,
    'chmod +x "$dir/bin/docker"',
    'for i in 1 2 3 4 5 6 7 8 9 10; do',
    '  : > "$dir/count"',
    "  TIMEFORMAT='%3R %3U %3S'",
    '  { time PATH="$dir/bin:$PATH" sh "$dir/probe.sh" > /dev/null; } 2>&1 | tail -n 1',
    '  wc -l < "$dir/count"',
    'done',
    'rm -rf "$dir"',
  ].join('\n');
  const result = await bed.ssh(1, `echo ${Buffer.from(remote).toString('base64')} | base64 -d | bash`);
  if (result.code !== 0) throw new Error(`server-side probe timing failed: ${result.stderr}`);
  const lines = result.stdout.trim().split('\n');
  const runs: { wall: number; cpu: number; docker: number }[] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [wall, user, sys] = lines[i]!.split(' ').map(Number);
    runs.push({ wall: wall! * 1000, cpu: (user! + sys!) * 1000, docker: Number(lines[i + 1]) });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  console.log(`\nserver-side cost of one host's probe, on the host itself (idle bed, median of 10; machine load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
  console.log('wall ms   CPU ms (script + docker CLIs)   docker CLI processes   target');
  const wall = median(runs.map((r) => r.wall));
  console.log(
    `${wall.toFixed(0).padStart(7)}   ${median(runs.map((r) => r.cpu)).toFixed(0).padStart(29)}   ${String(median(runs.map((r) => r.docker))).padStart(20)}   ${wall <= 150 ? 'ok' : 'OVER'} ≤150 ms (dockerd's own CPU is not counted)`,
  );
  await bed.mrsk(['remove', '-y', '-c', file]);
} finally {
  await bed.tearDown();
}
