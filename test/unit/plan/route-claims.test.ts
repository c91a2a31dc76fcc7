// Another app's live route for the same host and path blocks the host in the plan, naming both
// apps (issue 13: "two apps claiming the same host and path on one server → the plan names both").
// The rule claims are read from the rules mrsk writes; the live routers come from Traefik's API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { routeRule } from '../../../src/desired/proxy-routing.ts';
import { diff } from '../../../src/plan/diff.ts';
import { foreignRouteConflict, routerNamesOf, ruleClaims } from '../../../src/plan/route-claims.ts';
import type { ProxyConfig } from '../../../src/config/types.ts';
import type { TraefikRouterState } from '../../../src/probe/types.ts';
import { editHost, httpsConfig } from '../helpers/scenarios.ts';
import { deployedSnapshot, emptySnapshot } from '../helpers/snapshot.ts';

const proxy = (hosts: string[], pathPrefixes: string[] = []): ProxyConfig => ({ hosts, appPort: 80, sslRedirect: true, pathPrefixes, stripPathPrefix: true });
const live = (rule: string, service = 'x'): TraefikRouterState => ({ rule, service, status: 'enabled' });

test('ruleClaims reads every rule routeRule writes: host × path pairs, `/` without a path, nothing without a host', () => {
  assert.deepEqual(ruleClaims(routeRule(proxy(['a.test']))), ['a.test /']);
  assert.deepEqual(ruleClaims(routeRule(proxy(['a.test', 'B.test']))), ['a.test /', 'b.test /']);
  assert.deepEqual(ruleClaims(routeRule(proxy(['a.test'], ['/api', '/admin']))), ['a.test /api', 'a.test /admin']);
  assert.deepEqual(ruleClaims(routeRule(proxy(['a.test', 'b.test'], ['/api']))), ['a.test /api', 'b.test /api']);
  assert.equal(ruleClaims(routeRule(proxy([], ['/api']))), undefined);
  assert.equal(ruleClaims(routeRule(proxy([]))), undefined);
  assert.equal(ruleClaims('PathPrefix(`/`)'), undefined);
  // PathPrefix alone is not read as a Path claim
  assert.deepEqual(ruleClaims('Host(`a.test`) && PathPrefix(`/x/`)'), ['a.test /']);
});

test('routerNamesOf lists the routers labels declare (rule keys only)', () => {
  assert.deepEqual(
    routerNamesOf({ 'traefik.http.routers.app-web.rule': 'Host(`a`)', 'traefik.http.routers.app-web.tls': 'true', 'traefik.http.routers.app-web-secure.rule': 'Host(`a`)', 'traefik.enable': 'true' }),
    ['app-web', 'app-web-secure'],
  );
  assert.deepEqual(routerNamesOf({}), []);
});

test('foreignRouteConflict: the same host and path of another app is refused, naming both; other paths, hosts, own and non-docker routers are not', () => {
  const own = { 'gamma-web': routeRule(proxy(['a.test'])), 'gamma-web-secure': routeRule(proxy(['a.test'])) };
  const ownRouters = new Set(Object.keys(own));
  const alpha = { 'alpha-web-secure': live(routeRule(proxy(['a.test'])), 'alpha-web') };
  assert.equal(
    foreignRouteConflict('gamma', own, ownRouters, alpha, ['alpha', 'beta']),
    "host a.test path / is already routed on this host by app alpha (router alpha-web-secure); gamma's router gamma-web claims it too, and Traefik would send its requests to only one of them: give gamma another host or path_prefix, or remove the other route first",
  );
  // a router no known app declares is named as a router
  assert.match(foreignRouteConflict('gamma', own, ownRouters, { handmade: live('Host(`a.test`)') }, ['alpha']) ?? '', /by router handmade, which is not gamma's;/);
  // the longest app name wins (app `alpha-admin` owns router alpha-admin-web)
  assert.match(foreignRouteConflict('gamma', own, ownRouters, { 'alpha-admin-web': live('Host(`a.test`)') }, ['alpha', 'alpha-admin']) ?? '', /by app alpha-admin \(router alpha-admin-web\)/);
  // a destination's app name: service/destination, routers service-role-destination
  assert.match(foreignRouteConflict('gamma', own, ownRouters, { 'alpha-web-staging': live('Host(`a.test`)') }, ['alpha/staging']) ?? '', /by app alpha\/staging \(router alpha-web-staging\)/);
  // no conflict: another path, another host, this app's own routers, file/internal routers, no API answer
  assert.equal(foreignRouteConflict('gamma', own, ownRouters, { 'alpha-web': live(routeRule(proxy(['a.test'], ['/api']))) }), undefined);
  assert.equal(foreignRouteConflict('gamma', own, ownRouters, { 'alpha-web': live(routeRule(proxy(['b.test']))) }), undefined);
  assert.equal(foreignRouteConflict('gamma', own, ownRouters, { 'gamma-web-secure': live(routeRule(proxy(['a.test']))) }), undefined);
  assert.equal(foreignRouteConflict('gamma', own, ownRouters, { 'x@file': live('Host(`a.test`)'), 'api@internal': live('Host(`a.test`)') }), undefined);
  assert.equal(foreignRouteConflict('gamma', own, ownRouters, undefined), undefined);
  // host-less routes are never compared: the catch-all of files without proxy stays shareable
  assert.equal(foreignRouteConflict('gamma', { 'gamma-web': 'PathPrefix(`/`)' }, new Set(['gamma-web']), { 'alpha-web': live('PathPrefix(`/`)') }), undefined);
  // one of several hosts in common is enough
  assert.match(foreignRouteConflict('gamma', { 'gamma-web': routeRule(proxy(['c.test', 'a.test'])) }, new Set(['gamma-web']), alpha) ?? '', /^host a\.test path \//);
});

test('diff: a host where another app routes the same host is blocked with that message; without it the plan goes on', () => {
  const config = httpsConfig({ acme: true });
  const desired = deriveDesired(config, 'v1');
  const [host] = Object.keys(desired.hosts) as [string];
  const withOther = editHost(emptySnapshot(config), host, (h) => ({
    ...h,
    otherApps: ['alpha'],
    traefik: { services: {}, routers: { 'alpha-web-secure': live('Host(`app.test`)', 'alpha-web') } },
  }));
  const plan = diff(desired, withOther);
  const blocked = plan.blockedHosts.find((b) => b.host === host);
  assert.ok(blocked, JSON.stringify(plan.blockedHosts));
  assert.match(blocked.message, /^host app\.test path \/ is already routed on this host by app alpha \(router alpha-web-secure\); app's router app-web/);
  assert.ok(!plan.steps.some((step) => step.host === host), 'nothing planned on the blocked host');
  // this app's own routers in Traefik (a redeploy) are no conflict
  const deployed = deployedSnapshot(config, 'v1');
  const ownLive = editHost(deployed, host, (h) => ({ ...h, traefik: { services: {}, routers: { 'app-web-secure': live('Host(`app.test`)', 'app-web'), 'app-web': live('Host(`app.test`)', 'app-web') } } }));
  assert.deepEqual(diff(desired, ownLive).blockedHosts, []);
});
