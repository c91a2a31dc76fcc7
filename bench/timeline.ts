// bench/timeline.ts — where the time of a deploy and of a rollback goes, on the Docker hosts of
// the test bed, from the installed package: for each, when the plan was shown and each step's
// start and end on each host (ms since mrsk was started, from the `--json` events' times), so a
// change to one part shows as that part getting shorter; also what each drain's grace found.
// Prints; asserts nothing.
//   node --import tsx bench/timeline.ts        (needs root: it brings the test bed up)
//   BENCH_HOSTS (Docker hosts, default 3), BENCH_PODMAN=1 (also a deploy and a rollback on one
//   Podman host, runtime: podman), BENCH_ROUNDS (deploy and rollback pairs, default 1; with more,
//   also each step kind's median over the rounds, slowest host of each run)
import { join } from 'node:path';
import { bringUp, repoRoot, runOk } from '../test/e2e/harness.ts';
import { benchConfig, dockerHosts, podmanBenchConfig } from './bed-config.ts';
import { installPackage } from './package.ts';

const DOCKER_HOSTS = Number(process.env.BENCH_HOSTS ?? 3);
const PODMAN_HOSTS = Number(process.env.BENCH_PODMAN ?? 0) > 0 ? 1 : 0;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};

interface Event {
  readonly type: string;
  readonly time: string;
  readonly host?: string;
  readonly kind?: string;
  readonly step?: string;
  readonly duration_ms?: number;
  readonly message?: string;
}

const installed = installPackage();
process.env.MRSK_E2E_BIN = installed.bin;
const bed = await bringUp(DOCKER_HOSTS, { podman: PODMAN_HOSTS });
try {
  const tags = ['timeline0', 'timeline1'];
  for (const tag of tags) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), tag], { timeoutMs: 300_000 });
  const podmanIp = bed.podmanHosts[0];
  // fixtures/e2e/podman.yml names its host through this variable
  const env: Record<string, string> = podmanIp ? { MRSK_E2E_PODMAN_HOST: podmanIp } : {};
  const fleets: { name: string; config: string }[] = [];
  if (dockerHosts(bed).length > 0) fleets.push({ name: `${dockerHosts(bed).length} Docker hosts`, config: await benchConfig(bed) });
  if (podmanIp) fleets.push({ name: '1 Podman host', config: await podmanBenchConfig(bed) });
  for (const { name, config } of fleets) {
    await bed.mrsk(['remove', '-y', '-c', config], { timeoutMs: 300_000, env });
    const setup = await bed.mrsk(['setup', '--skip-push', '--version', tags[0]!, '-q', '-c', config], { timeoutMs: 300_000, env });
    if (setup.code !== 0) throw new Error(`setup failed:\n${setup.stdout}\n${setup.stderr}`);
    const runs: [string, string[]][] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const of = ROUNDS > 1 ? ` (round ${round})` : '';
      runs.push([`deploy to ${name}${of}`, ['deploy', '--skip-push', '--version', tags[1]!]], [`rollback on ${name}${of}`, ['rollback', tags[0]!]]);
    }
    /** `deploy|rollback kind` → that kind's longest step in each run (ms) */
    const slowest = new Map<string, number[]>();
    for (const [what, args] of runs) {
      const longest = new Map<string, number>();
      const started = Date.now();
      const result = await bed.mrsk([...args, '--json', '-c', config], { timeoutMs: 300_000, env });
      if (result.code !== 0) throw new Error(`mrsk ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
      const events = result.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Event);
      const at = (event: Event) => Date.parse(event.time) - started;
      console.log(`\n${what}: ${result.ms} ms from start to exit`);
      const plan = events.find((e) => e.type === 'plan');
      if (plan) console.log(`${String(at(plan)).padStart(6)}  plan shown`);
      const begun = new Map<string, number>();
      for (const event of events) {
        const key = `${event.host} ${event.step}`;
        if (event.type === 'step_started') begun.set(key, at(event));
        // what the drain's grace found (runtime/connections.ts): ended early, or why not
        if (event.type === 'step_progress' && event.kind === 'container-drain') console.log(`${String(at(event)).padStart(6)}  ${' '.repeat(24)}${event.host}  drain: ${event.message}`);
        if (event.type === 'step_finished') {
          const from = begun.get(key) ?? at(event) - (event.duration_ms ?? 0);
          console.log(`${String(from).padStart(6)} → ${String(at(event)).padStart(6)}  ${String(at(event) - from).padStart(5)} ms  ${event.host}  ${event.kind}`);
          longest.set(`${args[0]} ${event.kind}`, Math.max(longest.get(`${args[0]} ${event.kind}`) ?? 0, at(event) - from));
        }
      }
      const summary = events.find((e) => e.type === 'summary');
      if (summary) console.log(`${String(at(summary)).padStart(6)}  summary written`);
      longest.set(`${args[0]} (whole run)`, result.ms);
      for (const [key, ms] of longest) slowest.set(key, [...(slowest.get(key) ?? []), ms]);
    }
    if (ROUNDS > 1) {
      console.log(`\n${name}: median over ${ROUNDS} rounds (ms; each run's slowest host), min–max`);
      for (const [key, values] of slowest) console.log(`  ${key.padEnd(40)} ${String(median(values)).padStart(6)}   ${Math.min(...values)}–${Math.max(...values)}`);
    }
    await bed.mrsk(['remove', '-y', '-c', config], { timeoutMs: 300_000, env });
  }
} finally {
  await bed.tearDown();
  installed.remove();
}
