// bench/deploy.ts — wall time of a v→v+1 deploy (image prebuilt, --skip-push) and of a rollback,
// on Docker hosts (1 host and every Docker host of the test bed) and on a Podman host
// (runtime: podman), run from the installed package (npm pack → npm install -g), each next to the
// floor of its runtime measured in the same run: on one host, by hand over SSH, pull + run +
// healthy + Traefik routes to it (for Docker also a fast floor, its check run every 0.1 s, the
// soonest Docker can say healthy). Prints a table; asserts nothing
// (numbers on a shared 2-core machine are noisy: compare the ratios).
//   node --import tsx bench/deploy.ts            (needs root: it brings the test bed up)
//   BENCH_HOSTS (Docker hosts, default 3), BENCH_PODMAN (Podman hosts, default 1; 0 = no Podman rows),
//   BENCH_ROUNDS (default 2; each row is the best of its rounds). The Docker hosts also take a
//   deploy with boot.parallel_roles (web and job start at once on the host that runs both).
import { join } from 'node:path';
import { bringUp, repoRoot, runOk, type Bed } from '../test/e2e/harness.ts';
import { benchConfig, dockerHosts, podmanBenchConfig } from './bed-config.ts';
import { installPackage } from './package.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const DOCKER_HOSTS = Number(process.env.BENCH_HOSTS ?? 3);
const PODMAN_HOSTS = Number(process.env.BENCH_PODMAN ?? 1);

type Runtime = 'docker' | 'podman';

/**
 * The floor on one host: what a deploy cannot avoid. Podman runs no health checks by itself on a
 * host without systemd, so the by-hand script runs `podman healthcheck run` until it passes (what
 * mrsk does while it waits); Traefik there reads Podman's API socket through the Docker provider,
 * so its service is `…@docker` too and the measurement needs `mrsk setup` first (socket, network).
 */
async function floor(bed: Bed, host: number, tag: string, runtime: Runtime, healthInterval = '1s'): Promise<number> {
  const cli = runtime;
  const image = `${bed.registry}/demo-app:${tag}`;
  const name = `floor-${Date.now()}`;
  const labels = [
    'traefik.enable=true',
    'traefik.docker.network=mrsk',
    `traefik.http.routers.${name}.rule=PathPrefix(\`/floor\`)`,
    `traefik.http.services.${name}.loadbalancer.server.port=3000`,
  ].map((l) => `--label '${l}'`).join(' ');
  const healthy = runtime === 'docker'
    ? `until [ "$(docker inspect -f '{{.State.Health.Status}}' ${name})" = healthy ]; do sleep 0.2; done`
    : `until podman healthcheck run ${name} >/dev/null 2>&1; do sleep 0.2; done`;
  const script = [
    `${cli} rmi -f ${image} >/dev/null 2>&1 || true`,
    'start=$(date +%s%N)',
    `${cli} pull -q ${image} >/dev/null`,
    `${cli} run -d --name ${name} --network mrsk ${labels} --health-cmd 'wget -q -O /dev/null http://127.0.0.1:3000/up' --health-interval ${healthInterval} ${image} >/dev/null`,
    healthy,
    `until ${cli} exec traefik wget -q -O - http://127.0.0.1:8080/api/http/services/${name}@docker 2>/dev/null | grep -q '"UP"'; do sleep 0.2; done`,
    'end=$(date +%s%N)',
    `${cli} rm -f ${name} >/dev/null`,
    'echo $(( (end - start) / 1000000 ))',
  ].join(' && ');
  const result = await bed.ssh(host, script, { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`${runtime} floor measurement failed: ${result.stderr}`);
  return Number(result.stdout.trim());
}

async function mrskMs(bed: Bed, config: string, args: readonly string[], env: Record<string, string>): Promise<number> {
  const all = [...args, '-q', '-c', config];
  const result = await bed.mrsk(all, { timeoutMs: 300_000, env });
  if (result.code !== 0) throw new Error(`mrsk ${all.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.ms;
}

// what users run: the installed package (no TypeScript loader; MRSK_INSTALLED reuses one)
const installed = installPackage();
process.env.MRSK_E2E_BIN = installed.bin;
const bed = await bringUp(DOCKER_HOSTS, { podman: PODMAN_HOSTS });
try {
  const docker = dockerHosts(bed);
  const podmanIp = bed.podmanHosts[0];
  // fixtures/e2e/podman.yml names its host through this variable (bed-config sets it too)
  const env: Record<string, string> = podmanIp ? { MRSK_E2E_PODMAN_HOST: podmanIp } : {};
  const tags = Array.from({ length: ROUNDS * 3 + 1 }, (_, i) => `bench${i}`);
  // the floors pull their own tag, which no container runs (`podman rmi -f` would remove those)
  const floorTag = 'benchfloor';
  for (const tag of [...tags, floorTag]) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), tag], { timeoutMs: 300_000 });
  const configs: { runtime: Runtime; file: string }[] = [{ runtime: 'docker', file: await benchConfig(bed) }];
  if (podmanIp) configs.push({ runtime: 'podman', file: await podmanBenchConfig(bed) });
  for (const { file } of configs) {
    await bed.mrsk(['remove', '-y', '-c', file], { env, timeoutMs: 300_000 });
    await mrskMs(bed, file, ['setup', '--skip-push', '--version', tags[0]!], env);
  }
  const dockerFile = configs[0]!.file;
  const parallelFile = await benchConfig(bed, { parallelRoles: true });
  const podmanFile = configs[1]?.file;
  const rows: { what: string; ms: number }[] = [];
  let next = 1;
  let back = tags[0]!;
  for (let round = 0; round < ROUNDS; round++) {
    const floors = await Promise.all(docker.map((ip) => floor(bed, bed.hosts.indexOf(ip) + 1, floorTag, 'docker')));
    rows.push({ what: 'docker floor', ms: Math.max(...floors) });
    // the fastest Docker reports health: a check 0.1 s after the start and every 0.1 s (what the
    // watching check mrsk gives Docker does once the app answers; the config's interval is 1 s)
    const fast = await Promise.all(docker.map((ip) => floor(bed, bed.hosts.indexOf(ip) + 1, floorTag, 'docker', '0.1s')));
    rows.push({ what: 'docker floor fast', ms: Math.max(...fast) });
    const one = tags[next++]!;
    const all = tags[next++]!;
    rows.push({ what: 'docker deploy 1', ms: await mrskMs(bed, dockerFile, ['deploy', '--skip-push', '--version', one, '--hosts', docker[0]!], env) });
    rows.push({ what: 'docker deploy all', ms: await mrskMs(bed, dockerFile, ['deploy', '--skip-push', '--version', all], env) });
    // back to a version every host ran before (older ones are pruned on the first host by now)
    rows.push({ what: 'docker rollback all', ms: await mrskMs(bed, dockerFile, ['rollback', back], env) });
    const parallel = tags[next++]!;
    rows.push({ what: 'docker deploy all parallel', ms: await mrskMs(bed, parallelFile, ['deploy', '--skip-push', '--version', parallel], env) });
    back = parallel;
    if (podmanIp && podmanFile) {
      rows.push({ what: 'podman floor', ms: await floor(bed, bed.hosts.indexOf(podmanIp) + 1, floorTag, 'podman') });
      rows.push({ what: 'podman deploy 1', ms: await mrskMs(bed, podmanFile, ['deploy', '--skip-push', '--version', one], env) });
      rows.push({ what: 'podman deploy 1', ms: await mrskMs(bed, podmanFile, ['deploy', '--skip-push', '--version', all], env) });
      rows.push({ what: 'podman rollback 1', ms: await mrskMs(bed, podmanFile, ['rollback', one], env) });
    }
  }
  const best = (what: string) => Math.min(...rows.filter((r) => r.what === what).map((r) => r.ms));
  const dockerFast = best('docker floor fast');
  const line = (what: string, ms: number, floorMs: number, extra = '') =>
    console.log(`${what.padEnd(44)} ${String(ms).padStart(6)}   ${(ms / floorMs).toFixed(2).padStart(22)}${floorMs === best('docker floor') ? `   ${(ms / dockerFast).toFixed(2).padStart(16)}` : ''}${extra}`);
  console.log(`\nmrsk deploy benchmark (${ROUNDS} rounds, best of each; the installed package; process start-up and SSH connects included)`);
  console.log(`${'what'.padEnd(44)}     ms   × floor of its runtime   × fast floor`);
  const dockerFloor = best('docker floor');
  const dockerOne = best('docker deploy 1');
  const dockerAll = best('docker deploy all');
  line(`docker floor (pull+run+healthy+routed)`, dockerFloor, dockerFloor);
  line(`docker fast floor (checked every 0.1s)`, dockerFast, dockerFloor);
  line('docker: deploy to 1 host', dockerOne, dockerFloor);
  line(`docker: deploy to ${docker.length} hosts`, dockerAll, dockerFloor, `   (${(dockerAll / dockerOne).toFixed(2)} × 1 host)`);
  line(`docker: deploy to ${docker.length} hosts, parallel_roles`, best('docker deploy all parallel'), dockerFloor);
  line(`docker: rollback on ${docker.length} hosts`, best('docker rollback all'), dockerFloor);
  if (podmanIp) {
    const podmanFloor = best('podman floor');
    line('podman floor (pull+run+healthy+routed)', podmanFloor, podmanFloor);
    line('podman: deploy to 1 host', best('podman deploy 1'), podmanFloor);
    line('podman: rollback on 1 host', best('podman rollback 1'), podmanFloor);
  }
  for (const { file } of configs) await bed.mrsk(['remove', '-y', '-c', file], { env, timeoutMs: 300_000 });
} finally {
  await bed.tearDown();
  installed.remove();
}
