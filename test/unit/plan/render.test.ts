// renderPlan / planToJson: the two views of a plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { planToJson, renderPlan, summarizePlan } from '../../../src/plan/render.ts';
import type { Plan } from '../../../src/plan/types.ts';
import { scenarios } from '../helpers/scenarios.ts';

const byName = new Map(scenarios().map((s) => [s.name, s]));
const planOf = (name: string): Plan => {
  const s = byName.get(name)!;
  return diff(desired(s.config, s.version), s.snapshot, s.options);
};
const ESC = '\u001b[';

test('an empty plan says so, in one line', () => {
  assert.equal(renderPlan(planOf('no-changes'), { color: false }), 'No changes. Hosts match the configuration. (app version v1)\n');
});

test('text: legend, a block per host, one line per resource with symbol and cause, the footer', () => {
  const text = renderPlan(planOf('new-version'), { color: false });
  assert.ok(text.startsWith('Resource actions are indicated with the following symbols:\n'));
  assert.match(text, /\nh1\.example\.com {2}\(batch 1\)\n {2}\+\/- container\/app-web-v2 {2}new version v1 → v2\n/);
  assert.match(text, /\n {2}~ {3}release {15}record release v1 → v2\n/);
  assert.ok(!text.includes('· '), 'operations are listed only when verbose');
  assert.ok(text.endsWith('\nPlan: 0 to add, 2 to change, 3 to replace, 0 to destroy.\n'));
  assert.ok(!text.includes(ESC), 'no colour codes unless asked');
});

test('verbose lists each operation under its resource', () => {
  const text = renderPlan(planOf('new-version'), { color: false, verbose: true });
  assert.match(text, /container\/app-web-v2 {2}new version v1 → v2\n {8}· pull registry\.example\.com\/acme\/app:v2\n {8}· run app-web-v2/);
  assert.match(text, / {8}· drain app-web-v1 from Traefik\n {8}· stop app-web-v1 \(timeout 30s\)\n/);
});

test('colour: symbols coloured, changed clear values shown old → new with the changed words marked, secrets stay hidden', () => {
  const text = renderPlan(planOf('env-clear-change'), { color: true });
  assert.ok(text.includes(`${ESC}32m+${ESC}0m/${ESC}31m-${ESC}0m container/app-web-v1`), 'the +/- symbol is green/red');
  const stopFirst = renderPlan(planOf('traefik-stopped'), { color: true });
  assert.ok(stopFirst.includes(`${ESC}31m-${ESC}0m/${ESC}32m+${ESC}0m traefik`), 'the -/+ symbol is red/green');
  assert.ok(text.includes(`env RAILS_LOG_LEVEL: "${ESC}31minfo${ESC}0m" → "${ESC}32mdebug${ESC}0m"`), 'old words red, new words green');
  const secret = renderPlan(planOf('env-secret-change'), { color: true });
  assert.ok(secret.includes('env DATABASE_URL: (value hidden)'));
  const plain = renderPlan(planOf('env-clear-change'), { color: false });
  assert.ok(plain.includes('env RAILS_LOG_LEVEL: "info" → "debug"'));
  assert.ok(plain.includes('env FEATURE_X: "on" (added)'));
});

test('no view of any scenario shows a secret value: text (plain, colour, verbose), JSON, saved file', async () => {
  const { serializePlan } = await import('../../../src/plan/saved.ts');
  const { DATABASE_URL_VALUE } = await import('../helpers/config.ts');
  for (const scenario of scenarios()) {
    const plan = diff(desired(scenario.config, scenario.version), scenario.snapshot, scenario.options);
    const views = [
      renderPlan(plan, { color: true, verbose: true }),
      renderPlan(plan, { color: false, verbose: true }),
      JSON.stringify(planToJson(plan)),
      serializePlan(plan),
      JSON.stringify(plan),
    ];
    for (const view of views) assert.ok(!view.includes(DATABASE_URL_VALUE) && !view.includes('hunter2'), `${scenario.name} leaked a secret`);
  }
});

test('blocked hosts are listed with their reason', () => {
  const text = renderPlan(planOf('host-unreachable'), { color: false });
  assert.match(text, /\nCannot plan 1 host:\n {2}h2\.example\.com: unreachable: connect ECONNREFUSED 10\.0\.0\.3:22\n/);
});

test('summary counts each resource once, by its symbol', () => {
  assert.deepEqual(summarizePlan(planOf('first-deploy')), { add: 9, change: 0, replace: 0, destroy: 0 });
  assert.deepEqual(summarizePlan(planOf('retention')), { add: 0, change: 0, replace: 0, destroy: 5 });
  assert.deepEqual(summarizePlan(planOf('traefik-stopped')), { add: 0, change: 0, replace: 1, destroy: 0 });
});

test('JSON: format_version 1 with address, host, actions, cause, depends_on per step and a summary', () => {
  const json = planToJson(planOf('new-version'));
  assert.equal(json.format_version, '1');
  assert.equal(json.service, 'app');
  assert.equal(json.destination, null);
  assert.equal(json.version, 'v2');
  const drain = json.steps.find((s) => s.kind === 'container-drain')!;
  assert.deepEqual(drain, {
    id: 'h1.example.com:container:app-web-v1:drain',
    address: 'h1.example.com/container/app-web-v2',
    host: 'h1.example.com',
    kind: 'container-drain',
    symbol: '+/-',
    actions: ['create', 'delete'],
    cause: 'new version v1 → v2',
    depends_on: ['h1.example.com:web:traefik-wait'],
    batch: 0,
  });
  assert.deepEqual(json.summary, { add: 0, change: 2, replace: 3, destroy: 0 });
  assert.deepEqual(json.blocked_hosts, []);
  assert.deepEqual(planToJson(planOf('host-unreachable')).blocked_hosts, [{ host: 'h2.example.com', status: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.3:22' }]);
});
