// Golden plans: for every hand-made scenario, the whole rendered text (verbose) and the --json
// document are compared with fixtures/plans/<name>.{txt,json}. Run with UPDATE_GOLDEN=1 to
// rewrite them after an intended change, then review the diff of the fixtures like code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { desired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { planToJson, renderPlan } from '../../../src/plan/render.ts';
import { scenarios } from '../helpers/scenarios.ts';
import { DATABASE_URL_VALUE } from '../helpers/config.ts';

const fixtures = fileURLToPath(new URL('../../../fixtures/plans/', import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): void {
  const path = `${fixtures}${file}`;
  if (update || !existsSync(path)) {
    if (!update) assert.fail(`missing golden file ${path}; run with UPDATE_GOLDEN=1 to create it`);
    writeFileSync(path, actual);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `${file} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)`);
}

for (const scenario of scenarios()) {
  test(`golden plan ${scenario.name}: ${scenario.title}`, () => {
    const plan = diff(desired(scenario.config, scenario.version), scenario.snapshot, scenario.options);
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
