// Properties of diff over every hand-made scenario and several hundred generated snapshots:
// 1. convergence: planning again from simulate(snapshot, plan) gives no steps;
// 2. ownership: no step touches a container without this service/destination's labels (or
//    mrsk's own Traefik), and no step creates a container whose name a foreign one holds;
// 3. well-formed: unique ids, dependencies point to earlier steps of the same host;
// 4. determinism: the same inputs give the same plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../../src/config/types.ts';
import { containerSpecFor, deriveDesired, traefikSpecFor } from '../../../src/desired/desired.ts';
import { diff, type DiffOptions } from '../../../src/plan/diff.ts';
import type { ContainerState, ObservedContainer, ReachableHost, Snapshot } from '../../../src/probe/types.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { seededRandom, type Random } from '../helpers/random.ts';
import { scenarios } from '../helpers/scenarios.ts';
import { checkCase, type Case } from '../helpers/plan-checks.ts';
import { foreignContainer, observedFromSpec, observedImage, reachableHost, TAKEN_AT } from '../helpers/snapshot.ts';

const STATES: readonly ContainerState[] = ['running', 'running', 'running', 'exited', 'exited', 'created', 'dead', 'paused', 'restarting'];
const HOSTS = ['h1.example.com', 'h2.example.com', 'h3.example.com', 'h4.example.com'];
const VERSIONS = ['v1', 'v2', 'v3', 'v4'];

/** A random config: web on some hosts, maybe a job role, maybe a destination. */
function randomConfig(random: Random): Config {
  const webHosts = random.subset(HOSTS, 0.6);
  const roles = [makeRole('web', { hosts: webHosts.length > 0 ? webHosts : [HOSTS[0]!] })];
  if (random.chance(0.6)) roles.push(makeRole('job', { hosts: random.subset(HOSTS, 0.5), cmd: random.pick(['bin/jobs', 'bin/jobs --fast']) }));
  const live = roles.filter((role) => role.hosts.length > 0);
  return makeConfig({
    roles: live,
    ...(random.chance(0.3) ? { destination: 'staging' } : {}),
    retainContainers: random.int(1, 3),
    boot: { ...(random.chance(0.3) ? { limit: random.pick([1, 2, '50%']), wait: 5 } : { wait: 0 }), parallelRoles: random.chance(0.3) },
    traefik: { image: 'traefik:v3.6', args: random.chance(0.2) ? { accesslog: true } : {}, labels: {}, options: {}, hostPort: 80, apiPort: 8080 },
  });
}

/** The same config with other env values, so some observed containers carry an older spec. */
function variantOf(config: Config, random: Random): Config {
  const roles = config.roles.map((role) =>
    makeRole(role.name, { ...role, env: makeEnv({ ...role.env.clear, RAILS_LOG_LEVEL: random.pick(['info', 'debug']) }, { DATABASE_URL: random.pick(['a', 'b']) }) }),
  );
  return makeConfig({ ...config, roles, hosts: config.hosts, traefik: { ...config.traefik, image: random.pick(['traefik:v3.6', 'traefik:v3.5']) } });
}

function randomHost(random: Random, host: string, config: Config): ReachableHost {
  // Containers may come from a config that also had a `worker` role (since removed) and other env.
  const superset = makeConfig({ ...config, roles: [...config.roles, makeRole('worker', { hosts: HOSTS, cmd: ['bin/worker'] })], hosts: config.hosts });
  const containers: ObservedContainer[] = [];
  const names = new Set<string>();
  const push = (container: ObservedContainer) => {
    if (names.has(container.name)) return;
    names.add(container.name);
    containers.push(container);
  };
  let minute = 0;
  for (const role of superset.roles) {
    for (const version of random.subset(VERSIONS, 0.45)) {
      const source = random.chance(0.3) ? variantOf(superset, random) : superset;
      const spec = containerSpecFor(source, source.roles.find((r) => r.name === role.name)!, version, host);
      minute += random.int(1, 30);
      const state = random.pick(STATES);
      const container = observedFromSpec(spec, { state, exitCode: state === 'exited' ? random.pick([0, 1, 137]) : 0, createdAt: new Date(Date.parse(TAKEN_AT) - 86_400_000 + minute * 60_000).toISOString(), host });
      push(container.health && random.chance(0.2) ? { ...container, health: random.pick(['unhealthy', 'starting'] as const) } : container);
    }
  }
  const traefikKind = random.pick(['none', 'match', 'match', 'other', 'stopped', 'squatter']);
  if (traefikKind !== 'none' && traefikKind !== 'squatter') {
    const source = traefikKind === 'other' ? variantOf(config, random) : config;
    push(observedFromSpec(traefikSpecFor(source), { state: traefikKind === 'stopped' ? 'exited' : 'running', host }));
  } else if (traefikKind === 'squatter' && random.chance(0.3)) {
    push(foreignContainer('traefik', {}, { host }));
  }
  // Foreign containers: other service, other destination, unlabelled; sometimes squatting a name mrsk wants.
  const otherDestination = config.destination ? undefined : 'production';
  for (const version of random.subset(VERSIONS, 0.3)) {
    push(foreignContainer(`other-web-${version}`, { 'mrsk.service': 'other', 'mrsk.role': 'web', 'mrsk.version': version }, { host, state: random.pick(STATES) }));
    const labels: Record<string, string> = { 'mrsk.service': config.service, 'mrsk.role': 'web', 'mrsk.version': version };
    if (otherDestination) labels['mrsk.destination'] = otherDestination;
    push(foreignContainer(`app-web-${otherDestination ?? 'nodest'}-${version}`, labels, { host, state: random.pick(STATES) }));
  }
  if (random.chance(0.05)) push(foreignContainer(`app-web-${VERSIONS[0]}`, {}, { host }));
  const images = random.subset(VERSIONS, 0.5).map((version) => observedImage(`${config.image}:${version}`));
  if (random.chance(0.5)) images.push(observedImage('example/other:1'));
  return reachableHost(host, {
    containers,
    images,
    networks: random.chance(0.8) ? ['bridge', 'host', 'none', 'mrsk'] : ['bridge', 'host', 'none'],
    ...(random.chance(0.5) ? { release: { id: 'r1', version: random.pick(VERSIONS), appliedAt: TAKEN_AT, appliedBy: 'someone', specHashes: {} } } : {}),
  });
}

function randomCase(seed: number): Case {
  const random = seededRandom(seed);
  const config = randomConfig(random);
  const hosts: Record<string, Snapshot['hosts'][string]> = {};
  // Also hosts the config no longer lists, to exercise destroying a removed host.
  for (const host of HOSTS) {
    if (!config.hosts.includes(host) && random.chance(0.6)) continue;
    hosts[host] = random.chance(0.1)
      ? { host, status: random.pick(['unreachable', 'auth-failed', 'docker-down'] as const), message: 'probe failed' }
      : randomHost(random, host, config);
  }
  const options: DiffOptions = {
    ...(random.chance(0.2) ? { hosts: random.subset(HOSTS) } : {}),
    ...(random.chance(0.2) ? { roles: random.subset(['web', 'job', 'worker']) } : {}),
  };
  return { label: `seed ${seed}`, config, version: random.pick(VERSIONS), snapshot: { takenAt: TAKEN_AT, hosts }, options };
}

test('every hand-made scenario converges, touches only its own containers and is deterministic', () => {
  for (const scenario of scenarios()) checkCase({ ...scenario, label: `scenario ${scenario.name}` });
});

test('500 generated snapshots converge after one simulated apply and never touch foreign containers', () => {
  let steps = 0;
  let blocked = 0;
  for (let seed = 1; seed <= 500; seed += 1) {
    const generated = randomCase(seed);
    checkCase(generated);
    const plan = diff(deriveDesired(generated.config, generated.version), generated.snapshot, generated.options);
    steps += plan.steps.length;
    blocked += plan.blockedHosts.length;
  }
  // The generator must produce real work, not empty plans that converge trivially.
  assert.ok(steps > 5000, `generated plans had only ${steps} steps in total`);
  assert.ok(blocked > 20, `generated cases blocked only ${blocked} hosts`);
});
