// bench/probe.ts — a no-op `mrsk plan` against the test bed, in process: wall time, SSH
// connections opened per host and commands (round trips) per host, for 1 host and for every
// host of the bed. Prints a table; asserts nothing.
//   node --import tsx bench/probe.ts             (needs root: it brings the test bed up)
import { loadConfig } from '../src/config/load.ts';
import { createSshRunner, sshRunnerOptionsFromConfig } from '../src/ssh/pool.ts';
import { probeHosts } from '../src/probe/probe.ts';
import { desired } from '../src/desired/desired.ts';
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
      const plan = diff(desired(config, 'v1'), snapshot, { hosts: [...hosts] });
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
  await bed.mrsk(['remove', '-y', '-c', file]);
} finally {
  await bed.tearDown();
}
