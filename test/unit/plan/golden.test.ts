// Golden plans: for every hand-made scenario, the whole rendered text (verbose) and the --json
// document are compared with fixtures/plans/<name>.{txt,json}. Run with UPDATE_GOLDEN=1 to
// rewrite them after an intended change, then review the diff of the fixtures like code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { planToJson, renderPlan } from '../../../src/views/plan.ts';
import { scenarios } from '../helpers/scenarios.ts';
import { DATABASE_URL_VALUE, makeConfig } from '../helpers/config.ts';
import { deployedSnapshot } from '../helpers/snapshot.ts';
import { golden } from '../helpers/golden.ts';


for (const scenario of scenarios()) {
  test(`golden plan ${scenario.name}: ${scenario.title}`, () => {
    const plan = diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot, scenario.options);
    const text = renderPlan(plan, { color: false, verbose: true });
    const json = `${JSON.stringify(planToJson(plan), null, 2)}\n`;
    for (const output of [text, json]) {
      assert.ok(!output.includes(DATABASE_URL_VALUE), 'a secret value leaked into the plan output');
      assert.ok(!output.includes('hunter2'), 'a secret value leaked into the plan output');
    }
    golden(`${scenario.name}.txt`, text);
    golden(`${scenario.name}.json`, json);
  });
}

// Real versions are 40-character commit hashes (plus `_uncommitted_<16 hex>` for a dirty tree).
// The text shows them 12 characters long and fits 80 columns; the JSON keeps them whole.
const OLD_COMMIT = '0d1e2f3a4b5c6d7e8f901a2b3c4d5e6f7a8b9c0d';
const NEW_COMMIT = '3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3';
const longNames = makeConfig({ service: 'storefront', destination: 'production' });
const gitScenarios = [
  {
    name: 'git-new-version',
    title: 'commit-hash versions: shown 12 characters long, full in JSON',
    config: makeConfig(),
    version: NEW_COMMIT,
    snapshot: deployedSnapshot(makeConfig(), OLD_COMMIT),
    versionReason: 'git HEAD, what `mrsk deploy` would ship',
  },
  {
    name: 'git-new-version-longer-service',
    title: 'a service name that pushes the cause off the line: it goes below, short resources keep theirs beside',
    config: makeConfig({ service: 'storefront' }),
    version: NEW_COMMIT,
    snapshot: deployedSnapshot(makeConfig({ service: 'storefront' }), OLD_COMMIT),
    versionReason: 'git HEAD, what `mrsk deploy` would ship',
  },
  {
    name: 'git-uncommitted-long-names',
    title: 'a dirty tree and long service and destination names still fit 80 columns',
    config: longNames,
    version: `${NEW_COMMIT}_uncommitted_0123456789abcdef`,
    snapshot: deployedSnapshot(longNames, OLD_COMMIT),
    versionReason: 'git HEAD with uncommitted changes, what `mrsk deploy` would ship',
  },
];

for (const scenario of gitScenarios) {
  test(`golden plan ${scenario.name}: ${scenario.title}`, () => {
    const plan = diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot);
    const text = renderPlan(plan, { color: false, verbose: true, versionReason: scenario.versionReason });
    const json = `${JSON.stringify(planToJson(plan), null, 2)}\n`;
    for (const line of text.split('\n')) assert.ok([...line].length <= 80, `wider than 80 columns: ${line}`);
    assert.ok(!text.includes(NEW_COMMIT) && !text.includes(OLD_COMMIT), 'the text shows no full commit hash');
    assert.ok(text.includes(NEW_COMMIT.slice(0, 12)) && text.includes(OLD_COMMIT.slice(0, 12)));
    assert.ok(json.includes(`"version": "${scenario.version}"`), 'the JSON keeps the full version');
    assert.ok(json.includes(`-${OLD_COMMIT}`), 'the JSON keeps full container names');
    golden(`${scenario.name}.txt`, text);
    golden(`${scenario.name}.json`, json);
  });
}
