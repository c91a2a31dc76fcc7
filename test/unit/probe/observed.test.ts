// The observed-state rules (src/probe/observed.ts): whose a container is, whether it serves,
// which is newest. Each rule once had several copies that disagreed at the edges; every edge the
// copies disagreed on has a case here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveDesired } from '../../../src/desired/desired.ts';
import {
  concernsService,
  currentContainer,
  IN_SERVICE,
  inService,
  isAppContainer,
  isManagedTraefik,
  isMrskMade,
  isOwnedBy,
  newestFirst,
  traefikServiceOf,
} from '../../../src/probe/observed.ts';
import type { ContainerState, ObservedContainer } from '../../../src/probe/types.ts';
import { makeConfig } from '../helpers/config.ts';
import { foreignContainer, observedFromSpec } from '../helpers/snapshot.ts';

const ALL_STATES: readonly ContainerState[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];
const HASH = 'v1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

/** The labels mrsk gives an app container of `app` (no destination) unless told otherwise. */
function appLabels(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const labels: Record<string, string | undefined> = { 'mrsk.service': 'app', 'mrsk.role': 'web', 'mrsk.version': 'v1', 'mrsk.spec-hash': HASH, ...overrides };
  return Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function container(name: string, labels: Record<string, string>, options: { state?: ContainerState; createdAt?: string } = {}): ObservedContainer {
  return foreignContainer(name, labels, options);
}

describe('inService', () => {
  it('is running, restarting or paused (docker brings those back by itself) and nothing else', () => {
    for (const state of ALL_STATES) {
      assert.equal(inService({ state }), state === 'running' || state === 'restarting' || state === 'paused', state);
    }
    assert.deepEqual([...IN_SERVICE].sort(), ['paused', 'restarting', 'running']);
  });
});

describe('isOwnedBy', () => {
  it('needs mrsk.service equal to the service', () => {
    assert.equal(isOwnedBy({ labels: appLabels() }, 'app', undefined), true);
    assert.equal(isOwnedBy({ labels: appLabels() }, 'blog', undefined), false);
    assert.equal(isOwnedBy({ labels: appLabels({ 'mrsk.service': 'App' }) }, 'app', undefined), false, 'exact, not case-folded');
    assert.equal(isOwnedBy({ labels: appLabels({ 'mrsk.service': undefined }) }, 'app', undefined), false);
  });

  it('treats an absent and an empty mrsk.destination as no destination', () => {
    assert.equal(isOwnedBy({ labels: appLabels({ 'mrsk.destination': '' }) }, 'app', undefined), true);
    assert.equal(isOwnedBy({ labels: appLabels() }, 'app', ''), true);
    assert.equal(isOwnedBy({ labels: appLabels({ 'mrsk.destination': '' }) }, 'app', ''), true);
  });

  it('keeps destinations apart', () => {
    const staging = { labels: appLabels({ 'mrsk.destination': 'staging' }) };
    assert.equal(isOwnedBy(staging, 'app', 'staging'), true);
    assert.equal(isOwnedBy(staging, 'app', undefined), false);
    assert.equal(isOwnedBy(staging, 'app', 'production'), false);
    assert.equal(isOwnedBy({ labels: appLabels() }, 'app', 'staging'), false);
  });

  it("does not count Kamal's own labels: those are Kamal's containers (src/probe/kamal.ts)", () => {
    assert.equal(isOwnedBy({ labels: { service: 'app', role: 'web' } }, 'app', undefined), false);
  });
});

describe('isAppContainer', () => {
  it('is an owned container of one of the selected roles', () => {
    assert.equal(isAppContainer(appLabels(), 'app', undefined, ['web']), true);
    assert.equal(isAppContainer(appLabels(), 'app', undefined, ['job', 'web']), true);
    assert.equal(isAppContainer(appLabels(), 'app', undefined, ['job']), false);
    assert.equal(isAppContainer(appLabels(), 'app', undefined, []), false);
    assert.equal(isAppContainer(appLabels(), 'blog', undefined, ['web']), false);
    assert.equal(isAppContainer(appLabels({ 'mrsk.destination': 'staging' }), 'app', undefined, ['web']), false);
  });

  it('never selects a container without a role unless asked for the empty role', () => {
    assert.equal(isAppContainer(appLabels({ 'mrsk.role': undefined }), 'app', undefined, ['web']), false);
  });
});

describe('isManagedTraefik', () => {
  it('needs the name traefik and mrsk.traefik=true', () => {
    assert.equal(isManagedTraefik({ name: 'traefik', labels: { 'mrsk.traefik': 'true' } }), true);
    assert.equal(isManagedTraefik({ name: 'traefik', labels: {} }), false, "a name alone is anyone's (Kamal's, a squatter's)");
    assert.equal(isManagedTraefik({ name: 'traefik', labels: { 'mrsk.traefik': 'false' } }), false);
    assert.equal(isManagedTraefik({ name: 'traefik', labels: { 'mrsk.traefik': 'TRUE' } }), false);
    assert.equal(isManagedTraefik({ name: 'traefik-old', labels: { 'mrsk.traefik': 'true' } }), false, 'renamed away: not the one mrsk runs');
  });
});

describe('isMrskMade', () => {
  it("is true for what mrsk started from the config's specs", () => {
    const config = makeConfig();
    const state = deriveDesired(config, 'v1');
    for (const spec of state.hosts['h1.example.com']!.containers) {
      assert.equal(isMrskMade(observedFromSpec(spec), config.service, config.destination), true, spec.name);
    }
  });

  it('needs role, version and spec hash labels', () => {
    assert.equal(isMrskMade(container('app-web-v1', appLabels()), 'app', undefined), true);
    assert.equal(isMrskMade(container('app-web-v1', appLabels({ 'mrsk.role': undefined })), 'app', undefined), false);
    assert.equal(isMrskMade(container('app-web-v1', appLabels({ 'mrsk.version': undefined })), 'app', undefined), false);
    assert.equal(isMrskMade(container('app-web-v1', appLabels({ 'mrsk.spec-hash': undefined })), 'app', undefined), false);
    assert.equal(isMrskMade(container('app-web-v1', appLabels({ 'mrsk.spec-hash': '' })), 'app', undefined), false);
  });

  it('needs the name its labels give (renamed or made by hand otherwise)', () => {
    assert.equal(isMrskMade(container('app-web-v1_replaced_0123456789ab', appLabels()), 'app', undefined), false);
    assert.equal(isMrskMade(container('web', appLabels()), 'app', undefined), false);
    assert.equal(isMrskMade(container('app-web-v2', appLabels()), 'app', undefined), false, 'version label and name disagree');
  });

  it('follows the naming rule: lower-cased service-role[-destination], version as it is', () => {
    const labels = appLabels({ 'mrsk.service': 'App', 'mrsk.role': 'Web', 'mrsk.version': 'V1', 'mrsk.destination': 'Prod' });
    assert.equal(isMrskMade(container('app-web-prod-V1', labels), 'App', 'Prod'), true);
    assert.equal(isMrskMade(container('App-Web-Prod-V1', labels), 'App', 'Prod'), false);
  });

  it('needs ownership too: a name does not tell services apart (drift once checked only the name)', () => {
    // service app + role web-x and service app-web + role x both give app-web-x-v1
    const otherService = container('app-web-x-v1', appLabels({ 'mrsk.service': 'app-web', 'mrsk.role': 'x' }));
    assert.equal(isMrskMade(otherService, 'app-web', undefined), true);
    assert.equal(isMrskMade(otherService, 'app', undefined), false);
    const staging = container('app-web-staging-v1', appLabels({ 'mrsk.destination': 'staging' }));
    assert.equal(isMrskMade(staging, 'app', 'staging'), true);
    assert.equal(isMrskMade(container('app-web-staging-v1', appLabels()), 'app', 'staging'), false, 'no destination label: not that destination');
  });
});

describe('concernsService (what the probe keeps)', () => {
  it("keeps the service's own containers, Kamal's of the service and any container named traefik", () => {
    assert.equal(concernsService(container('app-web-v1', appLabels()), 'app', undefined), true);
    assert.equal(concernsService(container('app-web-123', { service: 'app', role: 'web' }), 'app', undefined), true);
    assert.equal(concernsService(container('traefik', { 'mrsk.traefik': 'true' }), 'app', undefined), true);
    assert.equal(concernsService(container('traefik', {}), 'app', undefined), true, 'a squatter on the name must reach the plan, which blocks the host');
  });

  it("drops everything else: other services, other destinations, other names", () => {
    assert.equal(concernsService(container('blog-web-v1', appLabels({ 'mrsk.service': 'blog' })), 'app', undefined), false);
    assert.equal(concernsService(container('app-web-staging-v1', appLabels({ 'mrsk.destination': 'staging' })), 'app', undefined), false);
    assert.equal(concernsService(container('blog-web-1', { service: 'blog', role: 'web' }), 'app', undefined), false);
    assert.equal(concernsService(container('postgres', { 'com.example': 'x' }), 'app', undefined), false);
    assert.equal(concernsService(container('traefik2', { 'mrsk.traefik': 'true' }), 'app', undefined), false);
  });
});

describe('traefikServiceOf', () => {
  const port = (service: string) => `traefik.http.services.${service}.loadbalancer.server.port`;

  it('reads the service from the port label when traefik.enable=true', () => {
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true', [port('app-web')]: '3000' }), 'app-web');
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true', [port('a.b')]: '3000' }), 'a.b', 'a dot inside the name is part of it');
  });

  it('is undefined unless traefik.enable is exactly true', () => {
    assert.equal(traefikServiceOf({ [port('app-web')]: '3000' }), undefined);
    assert.equal(traefikServiceOf({ 'traefik.enable': 'false', [port('app-web')]: '3000' }), undefined);
    assert.equal(traefikServiceOf({ 'traefik.enable': 'True', [port('app-web')]: '3000' }), undefined);
  });

  it('is undefined without a port label, and ignores other traefik.http.services keys', () => {
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true' }), undefined);
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true', 'traefik.http.services.app-web.loadbalancer.sticky': 'true' }), undefined);
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true', 'traefik.http.routers.app-web.service': 'app-web' }), undefined);
  });

  it('skips a label naming no service (the planner once returned an empty name) and takes the next', () => {
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true', [port('')]: '3000' }), undefined);
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true', 'traefik.http.services.loadbalancer.server.port': '1' }), undefined);
    assert.equal(traefikServiceOf({ 'traefik.enable': 'true', [port('')]: '3000', [port('app-web')]: '3000' }), 'app-web');
  });

  it("agrees with the labels desired state writes for every proxied role", () => {
    const state = deriveDesired(makeConfig(), 'v1');
    const web = state.hosts['h1.example.com']!.containers.find((spec) => spec.role === 'web')!;
    const job = state.hosts['h1.example.com']!.containers.find((spec) => spec.role === 'job')!;
    assert.equal(traefikServiceOf(web.labels), web.traefikService);
    assert.equal(traefikServiceOf(job.labels), undefined);
  });
});

describe('newestFirst', () => {
  const at = (name: string, createdAt: string) => ({ name, createdAt });
  const order = (...items: { name: string; createdAt: string }[]) => [...items].sort(newestFirst).map((c) => c.name);

  it('sorts by creation time, newest first', () => {
    assert.deepEqual(order(at('a', '2026-11-20T10:00:00Z'), at('b', '2026-11-20T12:00:00Z'), at('c', '2026-11-20T11:00:00Z')), ['b', 'c', 'a']);
  });

  it("reads docker's fractions of a second as numbers: trailing zeros are dropped, .12 is older than .123", () => {
    assert.deepEqual(order(at('older', '2026-11-20T10:00:05.12Z'), at('newer', '2026-11-20T10:00:05.123Z')), ['newer', 'older']);
    assert.deepEqual(order(at('whole', '2026-11-20T10:00:05Z'), at('later', '2026-11-20T10:00:05.5Z')), ['later', 'whole']);
    assert.deepEqual(order(at('ns', '2026-11-20T10:00:05.000000001Z'), at('zero', '2026-11-20T10:00:05Z')), ['ns', 'zero']);
    assert.equal(newestFirst(at('x', '2026-11-20T10:00:05.1Z'), at('x', '2026-11-20T10:00:05.100000000Z')), 0, 'the same instant');
  });

  it('breaks ties by name, descending, by code unit and not by locale', () => {
    const t = '2026-11-20T10:00:00Z';
    assert.deepEqual(order(at('app-web-v1', t), at('app-web-v2', t)), ['app-web-v2', 'app-web-v1']);
    // localeCompare would put 'a' after 'B' and '_' before '-'; code units do not
    assert.deepEqual(order(at('B', t), at('a', t)), ['a', 'B']);
    assert.deepEqual(order(at('x-1', t), at('x_1', t)), ['x_1', 'x-1']);
    assert.equal(newestFirst(at('same', t), at('same', t)), 0);
  });

  it('is a consistent order: antisymmetric and the same whatever the input order', () => {
    const items = [
      at('a', '2026-11-20T10:00:00Z'), at('b', '2026-11-20T10:00:00Z'), at('c', '2026-11-20T10:00:00.5Z'),
      at('d', '2026-11-20T10:00:00.50Z'), at('e', 'not a time'), at('f', '2026-11-19T23:59:59.999999999Z'),
    ];
    for (const x of items) for (const y of items) assert.equal(Math.sign(newestFirst(x, y)) + Math.sign(newestFirst(y, x)), 0, `${x.name} ${y.name}`);
    const expected = order(...items);
    assert.deepEqual(order(...[...items].reverse()), expected);
    assert.deepEqual(expected, ['e', 'd', 'c', 'b', 'a', 'f'], 'text that is no time sorts as text; equal instants .5 and .50 tie-break by name');
  });
});

describe('currentContainer', () => {
  const web = (version: string, createdAt: string, state: ContainerState = 'running', labels: Record<string, string | undefined> = {}) =>
    container(`app-web-${version}`, appLabels({ 'mrsk.version': version, ...labels }), { state, createdAt });

  it('is the newest running container of the role', () => {
    const containers = [web('v1', '2026-11-20T10:00:00Z'), web('v2', '2026-11-20T11:00:00Z'), web('v3', '2026-11-20T12:00:00Z', 'exited')];
    assert.equal(currentContainer(containers, 'app', undefined, 'web', 'v1')?.name, 'app-web-v2');
  });

  it('falls back to the newest container of the deployed version when none runs', () => {
    const containers = [web('v1', '2026-11-20T10:00:00Z', 'exited'), web('v2', '2026-11-20T11:00:00Z', 'exited')];
    assert.equal(currentContainer(containers, 'app', undefined, 'web', 'v1')?.name, 'app-web-v1');
    assert.equal(currentContainer(containers, 'app', undefined, 'web', 'v9'), undefined);
  });

  it('finds nothing by version when no version is deployed, even a container without a version label', () => {
    const unversioned = container('app-web-x', appLabels({ 'mrsk.version': undefined }), { state: 'exited' });
    assert.equal(currentContainer([unversioned], 'app', undefined, 'web', undefined), undefined);
  });

  it("looks only at this service's, destination's and role's containers", () => {
    const containers = [
      web('v1', '2026-11-20T10:00:00Z', 'exited'),
      container('app-job-v1', appLabels({ 'mrsk.role': 'job' }), { createdAt: '2026-11-20T12:00:00Z' }),
      container('blog-web-v1', appLabels({ 'mrsk.service': 'blog' }), { createdAt: '2026-11-20T12:00:00Z' }),
      container('app-web-staging-v1', appLabels({ 'mrsk.destination': 'staging' }), { createdAt: '2026-11-20T12:00:00Z' }),
    ];
    assert.equal(currentContainer(containers, 'app', undefined, 'web', 'v1')?.name, 'app-web-v1');
    assert.equal(currentContainer(containers, 'app', 'staging', 'web', 'v1')?.name, 'app-web-staging-v1');
    assert.equal(currentContainer(containers, 'app', undefined, 'job', undefined)?.name, 'app-job-v1');
  });
});
