// bench/deploy.ts — wall time of a v→v+1 deploy (image prebuilt, --skip-push) to 1 host and to
// every host of the test bed, next to the floor measured in the same run: on one host, by hand
// over SSH, `docker pull` + `docker run` + Docker healthy + Traefik routes to it. Prints a table;
// asserts nothing (numbers on a shared 2-core machine are noisy: compare the ratios).
//   node --import tsx bench/deploy.ts            (needs root: it brings the test bed up)
import { join } from 'node:path';
import { bringUp, deployConfig, repoRoot, runOk, type Bed } from '../test/e2e/harness.ts';
import { benchConfig } from './bed-config.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

async function floor(bed: Bed, host: number, tag: string): Promise<number> {
  const image = `${bed.registry}/demo-app:${tag}`;
  const name = `floor-${Date.now()}`;
  const labels = [
    'traefik.enable=true',
    'traefik.docker.network=mrsk',
    `traefik.http.routers.${name}.rule=PathPrefix(\`/floor\`)`,
    `traefik.http.services.${name}.loadbalancer.server.port=3000`,
  ].map((l) => `--label '${l}'`).join(' ');
  const script = [
    `docker rmi -f ${image} >/dev/null 2>&1 || true`,
    'start=$(date +%s%N)',
    `docker pull -q ${image} >/dev/null`,
    `docker run -d --name ${name} --network mrsk ${labels} --health-cmd 'wget -q -O /dev/null http://127.0.0.1:3000/up' --health-interval 1s ${image} >/dev/null`,
    `until [ "$(docker inspect -f '{{.State.Health.Status}}' ${name})" = healthy ]; do sleep 0.2; done`,
    `until docker exec traefik wget -q -O - http://127.0.0.1:8080/api/http/services/${name}@docker 2>/dev/null | grep -q '"UP"'; do sleep 0.2; done`,
    'end=$(date +%s%N)',
    `docker rm -f ${name} >/dev/null`,
    'echo $(( (end - start) / 1000000 ))',
  ].join(' && ');
  const result = await bed.ssh(host, script, { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`floor measurement failed: ${result.stderr}`);
  return Number(result.stdout.trim());
}

let config = deployConfig;

async function deployMs(bed: Bed, version: string, hosts?: string): Promise<number> {
  const args = ['deploy', '--skip-push', '--version', version, '-q', '-c', config, ...(hosts ? ['--hosts', hosts] : [])];
  const result = await bed.mrsk(args, { timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`mrsk ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.ms;
}

const bed = await bringUp(Number(process.env.BENCH_HOSTS ?? 3));
try {
  const tags = Array.from({ length: ROUNDS * 2 + 1 }, (_, i) => `bench${i}`);
  for (const tag of tags) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), tag]);
  config = await benchConfig(bed);
  await bed.mrsk(['remove', '-y', '-c', config]);
  const setup = await bed.mrsk(['setup', '--skip-push', '--version', tags[0]!, '-q', '-c', config]);
  if (setup.code !== 0) throw new Error(setup.stderr);
  const rows: { what: string; ms: number }[] = [];
  let next = 1;
  for (let round = 0; round < ROUNDS; round++) {
    const floors = await Promise.all(bed.hosts.map((_, i) => floor(bed, i + 1, tags[0]!)));
    rows.push({ what: `floor (slowest host of ${bed.hosts.length})`, ms: Math.max(...floors) });
    rows.push({ what: 'deploy to 1 host', ms: await deployMs(bed, tags[next++]!, bed.hosts[0]) });
    rows.push({ what: `deploy to ${bed.hosts.length} hosts`, ms: await deployMs(bed, tags[next++]!) });
  }
  const best = (what: string) => Math.min(...rows.filter((r) => r.what.startsWith(what)).map((r) => r.ms));
  const floorMs = best('floor');
  const one = best('deploy to 1');
  const all = best(`deploy to ${bed.hosts.length}`);
  console.log(`\nmrsk deploy benchmark (${ROUNDS} rounds, best of each; process start-up and SSH connects included)`);
  console.log('what                              ms     × floor');
  console.log(`floor (pull+run+healthy+routed)  ${String(floorMs).padStart(6)}   1.00`);
  console.log(`deploy to 1 host                 ${String(one).padStart(6)}   ${(one / floorMs).toFixed(2)}`);
  console.log(`deploy to ${bed.hosts.length} hosts                ${String(all).padStart(6)}   ${(all / floorMs).toFixed(2)}   (${(all / one).toFixed(2)} × 1 host)`);
  await bed.mrsk(['remove', '-y', '-c', config]);
} finally {
  await bed.tearDown();
}
