// Plan speed on synthetic fleets: time to build the desired state and to diff it against a
// snapshot, for 100, 1,000 and 5,000 hosts with 3 roles and 6 old containers per role.
// Run: node --import tsx bench/plan.ts   (prints a table; asserts nothing)
import { performance } from 'node:perf_hooks';
import { containerSpecFor, deriveDesired, traefikSpecFor } from '../src/desired/desired.ts';
import { diff } from '../src/plan/diff.ts';
import { fingerprintSnapshot } from '../src/plan/fingerprint.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../src/probe/types.ts';
import { makeConfig, makeRole } from '../test/unit/helpers/config.ts';

const ROLES = ['web', 'job', 'worker'];
const OLD_VERSIONS = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'];
const TAKEN_AT = Date.parse('2026-11-20T12:00:00.000Z');

function fleet(size: number) {
  const hosts = Array.from({ length: size }, (_, i) => `host-${String(i + 1).padStart(5, '0')}.example.com`);
  const config = makeConfig({
    roles: ROLES.map((name) => makeRole(name, { hosts, ...(name === 'web' ? {} : { cmd: `bin/${name}` }) })),
    boot: { limit: '10%', wait: 5, parallelRoles: false },
  });
  // Specs differ per host only by KAMAL_HOST/MRSK_HOST: build each once per host below.
  const specsOn = (host: string) => ROLES.flatMap((name) => OLD_VERSIONS.map((version) => containerSpecFor(config, config.roles.find((r) => r.name === name)!, version, host)));
  const traefik = traefikSpecFor(config);
  const snapshotHosts: Record<string, ReachableHost> = {};
  hosts.forEach((host, hostIndex) => {
    const containers: ObservedContainer[] = specsOn(host).map((spec, i) => {
      const newest = spec.version === OLD_VERSIONS.at(-1);
      return {
        id: `${hostIndex.toString(16).padStart(8, '0')}${i.toString(16).padStart(56, '0')}`,
        name: spec.name,
        image: spec.image,
        imageId: `sha256:${spec.version}`,
        state: newest ? 'running' : 'exited',
        exitCode: 0,
        labels: spec.labels,
        createdAt: new Date(TAKEN_AT - (OLD_VERSIONS.length - OLD_VERSIONS.indexOf(spec.version)) * 3_600_000).toISOString(),
        restartCount: 0,
      };
    });
    containers.push({ id: `t${hostIndex}`, name: 'traefik', image: traefik.image, imageId: 'sha256:t', state: 'running', exitCode: 0, labels: traefik.labels, createdAt: new Date(TAKEN_AT - 86_400_000).toISOString(), restartCount: 0 });
    snapshotHosts[host] = {
      host,
      status: 'ok',
      dockerVersion: '26.1.5',
      runtime: 'docker',
      home: '/home/deploy',
      containers,
      images: OLD_VERSIONS.map((version) => ({ id: `sha256:${version}`, tags: [`${config.image}:${version}`], createdAt: new Date(TAKEN_AT).toISOString(), labels: {} })),
      networks: ['bridge', 'host', 'none', 'mrsk'],
    };
  });
  const snapshot: Snapshot = { takenAt: new Date(TAKEN_AT).toISOString(), hosts: snapshotHosts };
  return { config, snapshot };
}

/** Wall time (best and median of `runs`) and CPU time (best): the machine may be shared, and the best run is the least disturbed one. */
function time<T>(fn: () => T, runs: number): { best: number; median: number; cpu: number; result: T } {
  let result!: T;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    result = fn();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  const sorted = [...wall].sort((a, b) => a - b);
  return { best: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, cpu: Math.min(...cpu), result };
}

const rows: string[][] = [['hosts', 'containers', 'steps', 'desired ms', 'diff ms', 'diff ms (median)', 'diff cpu ms', 'fingerprint ms', 'total ms', 'ms/host']];
// Warm the JIT on a small fleet first so the first row is not mostly compilation.
{
  const warm = fleet(50);
  for (let i = 0; i < 10; i += 1) diff(deriveDesired(warm.config, 'v7'), warm.snapshot);
}
for (const size of [100, 1_000, 5_000]) {
  const { config, snapshot } = fleet(size);
  const runs = size >= 5_000 ? 5 : 11;
  const wanted = time(() => deriveDesired(config, 'v7'), runs);
  const planned = time(() => diff(wanted.result, snapshot), runs);
  const fingerprint = time(() => fingerprintSnapshot(snapshot), runs);
  const total = wanted.best + planned.best;
  const containers = Object.values(snapshot.hosts).reduce((sum, host) => sum + (host.status === 'ok' ? host.containers.length : 0), 0);
  rows.push([
    size.toLocaleString('en'),
    containers.toLocaleString('en'),
    planned.result.steps.length.toLocaleString('en'),
    wanted.best.toFixed(1),
    planned.best.toFixed(1),
    planned.median.toFixed(1),
    planned.cpu.toFixed(1),
    fingerprint.best.toFixed(1),
    total.toFixed(1),
    (total / size).toFixed(3),
  ]);
}
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
const line = (row: string[]) => row.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
console.log(`mrsk plan benchmark (node ${process.version}; ${ROLES.length} roles, ${OLD_VERSIONS.length} old containers per role per host; target < 100 ms at 1,000 hosts)`);
console.log(line(rows[0]!));
for (const row of rows.slice(1)) console.log(line(row));
console.log('(best of 11 runs, 5 at 5,000 hosts; diff includes the snapshot fingerprint, also shown on its own; total = desired + diff)');
