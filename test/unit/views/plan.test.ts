// renderPlan / planToJson: the two views of a plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { planToJson, renderPlan, summarizePlan } from '../../../src/views/plan.ts';
import type { Plan } from '../../../src/plan/types.ts';
import { scenarios } from '../helpers/scenarios.ts';

const byName = new Map(scenarios().map((s) => [s.name, s]));
const planOf = (name: string): Plan => {
  const s = byName.get(name)!;
  return diff(deriveDesired(s.config, s.version), s.snapshot, s.options);
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
    const plan = diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot, scenario.options);
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

// ---- reading width: short versions, 80 columns, the quiet view -------------------------------

import { abbreviateVersions, shortVersion } from '../../../src/plan/short-version.ts';
import { renderQuietPlan, planSummaryLine } from '../../../src/views/plan.ts';
import { visibleLength, wrapWords } from '../../../src/views/wrap.ts';

const COMMIT = '3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3';

test('a commit hash is shown 12 characters long, a dirty-tree digest 8; other versions as they are', () => {
  assert.equal(shortVersion(COMMIT), '3c4d5e6f7a8b');
  assert.equal(shortVersion(`${COMMIT}_uncommitted_0123456789abcdef`), '3c4d5e6f7a8b_uncommitted_01234567');
  assert.equal(shortVersion('v2'), 'v2');
  assert.equal(shortVersion('2026-11-30.1'), '2026-11-30.1');
  assert.equal(abbreviateVersions(`run app-web-${COMMIT} (reg/app:${COMMIT})`), 'run app-web-3c4d5e6f7a8b (reg/app:3c4d5e6f7a8b)');
  const imageId = 'sha256:5f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e';
  assert.equal(abbreviateVersions(imageId), imageId, 'a 64-hex image id is no commit hash');
  assert.equal(abbreviateVersions(COMMIT.toUpperCase()), COMMIT.toUpperCase(), 'git prints hashes in lower case; anything else is left alone');
});

test('wrapWords breaks between words with the given indents; a word longer than a line stays whole', () => {
  assert.deepEqual(wrapWords('one two three four', 10, '- ', '  '), ['- one two', '  three', '  four']);
  assert.deepEqual(wrapWords('a ' + 'x'.repeat(20) + ' b', 10, '', ''), ['a', 'x'.repeat(20), 'b']);
  assert.equal(visibleLength(`${ESC}31mred${ESC}0m`), 3, 'colour codes take no columns');
});

test('every scenario renders within 80 columns (only a single over-long word may exceed it), colour or not', () => {
  for (const scenario of scenarios()) {
    const plan = diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot, scenario.options);
    for (const color of [false, true]) {
      for (const line of renderPlan(plan, { color, verbose: true }).split('\n')) {
        if (visibleLength(line) > 80) assert.ok(!line.trim().includes(' '), `${scenario.name}: wider than 80 columns: ${line}`);
      }
    }
  }
});

test('a narrower width wraps causes under their own column; wider than 80 is still 80', () => {
  const plan = planOf('traefik-changed');
  const narrow = renderPlan(plan, { color: false, width: 60 });
  for (const line of narrow.split('\n')) assert.ok(visibleLength(line) <= 60, line);
  assert.match(narrow, /\n {2}-\/\+ traefik {2}traefik image traefik:v3\.5 → traefik:v3\.6,\n {15}args changed \(added/);
  assert.equal(renderPlan(plan, { color: false, width: 200 }), renderPlan(plan, { color: false }));
});

test('the version reason is the first line when given', () => {
  const text = renderPlan(planOf('new-version'), { color: false, versionReason: 'git HEAD, what `mrsk deploy` would ship' });
  assert.ok(text.startsWith('Planning version v2 (git HEAD, what `mrsk deploy` would ship).\n\nResource actions'));
  const none = renderPlan(planOf('no-changes'), { color: false, versionReason: 'deployed now' });
  assert.equal(none, 'Planning version v1 (deployed now).\nNo changes. Hosts match the configuration. (app version v1)\n');
});

test('the quiet view is the summary line, plus the hosts that could not be planned', () => {
  assert.equal(renderQuietPlan(planOf('new-version'), { color: false }), 'Plan: 0 to add, 2 to change, 3 to replace, 0 to destroy.\n');
  assert.equal(renderQuietPlan(planOf('no-changes'), { color: false }), 'No changes. Hosts match the configuration. (app version v1)\n');
  assert.equal(
    renderQuietPlan(planOf('host-unreachable'), { color: false }),
    'Cannot plan 1 host:\n  h2.example.com: unreachable: connect ECONNREFUSED 10.0.0.3:22\nPlan: 0 to add, 1 to change, 2 to replace, 0 to destroy.\n',
  );
  assert.equal(planSummaryLine(planOf('new-version')), 'Plan: 0 to add, 2 to change, 3 to replace, 0 to destroy.');
});
