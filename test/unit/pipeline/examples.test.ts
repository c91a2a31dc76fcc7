// The CI examples are checked, not just written: every mrsk command line in them (GitHub workflow
// `run:` lines, the action's `command:` input, GitLab `script:` lines) names a real command with
// real flags; the action's inputs used are declared in action.yml; the GitLab file's structure
// holds together (stages, jobs, needs, rules). actionlint checks the GitHub files themselves
// (test/tools/check-workflows.sh, run by test/run.sh).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { addGlobalOptions, type Bind, type RegisterCommand } from '../../../src/cli/program.ts';
import * as registry from '../../../src/cli/registry.ts';

const root = new URL('../../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
type Yaml = Record<string, any>;

/** The real command tree, as `mrsk` builds it (actions never run). */
async function program(): Promise<Command> {
  const top = addGlobalOptions(new Command('mrsk'));
  const bind: Bind = () => async () => {};
  // the registry lists command modules (loaded lazily) or, before that, their register functions
  const table = (registry as Record<string, unknown>).commandTable as readonly { load: () => Promise<{ register: RegisterCommand }> }[] | undefined;
  const registers = table
    ? await Promise.all(table.map(async (entry) => (await entry.load()).register))
    : ((registry as Record<string, unknown>).commands as readonly RegisterCommand[]);
  for (const register of registers) register(top, bind);
  const prepare = (command: Command) => {
    for (const sub of command.commands) {
      addGlobalOptions(sub);
      prepare(sub);
    }
  };
  prepare(top);
  return top;
}

/** Problems with one mrsk command line (the words after `mrsk`), or [] when every word is known. */
function checkCommandLine(top: Command, words: readonly string[]): string[] {
  let command = top;
  let index = 0;
  // the command path: `app exec`, `lock release`, …
  while (index < words.length && !words[index]!.startsWith('-')) {
    const sub = command.commands.find((c) => c.name() === words[index] || c.aliases().includes(words[index]!));
    if (!sub) break;
    command = sub;
    index += 1;
  }
  if (command === top) return [`\`mrsk ${words.join(' ')}\`: no command ${words[0] ?? ''}`];
  const problems: string[] = [];
  for (; index < words.length; index++) {
    const word = words[index]!;
    if (!word.startsWith('-')) continue; // an argument (a plan file, a version)
    const flag = word.split('=')[0]!;
    const option = command.options.find((o) => o.long === flag || o.short === flag);
    if (!option) problems.push(`\`mrsk ${words.join(' ')}\`: ${command.name()} has no option ${flag}`);
    else if ((option.required || option.optional) && !word.includes('=')) index += 1;
  }
  return problems;
}

/** The mrsk invocations in a shell script: the words after each `mrsk` word, up to a pipe or `&&`. */
function mrskLines(script: string): string[][] {
  const lines: string[][] = [];
  for (const line of script.split('\n')) {
    const words = line.trim().split(/\s+/);
    const at = words.findIndex((word, i) => word === 'mrsk' && (i === 0 || !words[i - 1]!.startsWith('--') || words[i - 1] === '--'));
    if (at < 0 || /^(#|--)/.test(words[0] ?? '')) continue;
    const rest = words.slice(at + 1);
    const end = rest.findIndex((word) => ['|', '&&', '||', ';', '>', '2>&1'].includes(word) || word.startsWith('>'));
    lines.push(end < 0 ? rest : rest.slice(0, end));
  }
  return lines;
}

const githubFiles = [
  ...readdirSync(join(root, 'examples/github-actions')).filter((f) => f.endsWith('.yml')).map((f) => `examples/github-actions/${f}`),
  ...readdirSync(join(root, '.github/workflows')).filter((f) => f.endsWith('.yml')).map((f) => `.github/workflows/${f}`),
];

describe('GitHub Actions examples and workflows', () => {
  const action = parse(read('action.yml')) as Yaml;
  const inputs = new Set(Object.keys(action.inputs));

  it('the action is composite, requires a command and runs mrsk with it', () => {
    assert.equal(action.runs.using, 'composite');
    assert.equal(action.inputs.command.required, true);
    const script = (action.runs.steps as Yaml[]).map((step) => String(step.run ?? '')).join('\n');
    assert.match(script, /bin\/mrsk\.js" "\$\{words\[@\]\}" "\$\{options\[@\]\}" <\/dev\/null/);
    // secrets pass through the environment only, never expanded into the script text
    assert.ok(!/\$\{\{\s*inputs\./.test(script), 'no ${{ inputs.* }} inside a run script');
  });

  for (const file of githubFiles) {
    it(`${file}: every mrsk command is real and every action input is declared`, async () => {
      const top = await program();
      const workflow = parse(read(file)) as Yaml;
      const problems: string[] = [];
      let mrskSteps = 0;
      for (const [jobName, job] of Object.entries(workflow.jobs as Yaml)) {
        for (const step of (job.steps ?? []) as Yaml[]) {
          const uses = String(step.uses ?? '');
          if (uses === './' || /\/mrsk@/.test(uses)) {
            mrskSteps += 1;
            for (const key of Object.keys(step.with ?? {})) if (!inputs.has(key)) problems.push(`${jobName}: input ${key} is not in action.yml`);
            problems.push(...checkCommandLine(top, String(step.with?.command ?? '').split(/\s+/)));
          }
          for (const words of mrskLines(String(step.run ?? ''))) {
            mrskSteps += 1;
            problems.push(...checkCommandLine(top, words));
          }
        }
      }
      assert.deepEqual(problems, []);
      assert.ok(mrskSteps > 0, 'the workflow runs mrsk');
    });
  }

  it('plan-then-apply: the plan is saved and uploaded, the apply job needs it, waits for an environment and applies that file', () => {
    const workflow = parse(read('examples/github-actions/deploy.yml')) as Yaml;
    const plan = workflow.jobs.plan as Yaml;
    const apply = workflow.jobs.apply as Yaml;
    const planStep = (plan.steps as Yaml[]).find((s) => String(s.with?.command ?? '').startsWith('plan'))!;
    const out = /--out (\S+)/.exec(planStep.with.command)![1]!;
    assert.ok((plan.steps as Yaml[]).some((s) => String(s.uses).startsWith('actions/upload-artifact') && s.with.path === out));
    assert.equal(apply.needs, 'plan');
    assert.equal(apply.environment, 'production');
    assert.match(String(apply.if), /push/);
    assert.ok((apply.steps as Yaml[]).some((s) => String(s.uses).startsWith('actions/download-artifact')));
    assert.ok((apply.steps as Yaml[]).some((s) => s.with?.command === `apply ${out} -y`));
  });

  it('drift: exit 2 opens an issue and fails the run', () => {
    const workflow = parse(read('examples/github-actions/drift.yml')) as Yaml;
    assert.ok(workflow.on.schedule);
    const steps = workflow.jobs.drift.steps as Yaml[];
    assert.ok(steps.some((s) => s.with?.command === 'drift' && s['continue-on-error'] === true));
    assert.ok(steps.some((s) => /exit-code == '2'/.test(String(s.if)) && /gh issue create/.test(String(s.run))));
    assert.ok(steps.some((s) => /exit-code != '0'/.test(String(s.if)) && /exit 1/.test(String(s.run))));
  });

  it("the project's CI runs npm test", () => {
    const workflow = parse(read('.github/workflows/ci.yml')) as Yaml;
    const runs = Object.values(workflow.jobs as Yaml).flatMap((job: Yaml) => (job.steps as Yaml[]).map((s) => String(s.run ?? '')));
    assert.ok(runs.some((run) => /\bnpm test\b/.test(run)));
  });
});

describe('GitLab CI example', () => {
  const RESERVED = new Set(['stages', 'default', 'variables', 'workflow', 'include', 'image', 'services', 'before_script', 'after_script', 'cache']);
  const pipeline = parse(read('examples/gitlab-ci/.gitlab-ci.yml')) as Yaml;
  const jobs = Object.entries(pipeline).filter(([name]) => !RESERVED.has(name) && !name.startsWith('.'));

  it('every job is in a declared stage, has a script, and needs only jobs that exist', () => {
    assert.deepEqual(pipeline.stages, ['plan', 'deploy', 'drift']);
    assert.deepEqual(jobs.map(([name]) => name), ['plan', 'deploy', 'drift']);
    for (const [name, job] of jobs as [string, Yaml][]) {
      assert.ok(pipeline.stages.includes(job.stage), `${name}: stage ${job.stage}`);
      assert.ok(Array.isArray(job.script) && job.script.every((line: unknown) => typeof line === 'string'), `${name}: script`);
      for (const need of job.needs ?? []) assert.ok(jobs.some(([other]) => other === need), `${name} needs ${need}`);
      for (const rule of job.rules ?? []) assert.ok(typeof rule.if === 'string', `${name}: rule without if`);
    }
  });

  it('every mrsk command is real; the deploy applies the saved plan artifact after a manual approval', async () => {
    const top = await program();
    const scripts = [...pipeline.default.before_script, ...jobs.flatMap(([, job]) => (job as Yaml).script as string[])];
    const lines = scripts.flatMap((line) => mrskLines(line));
    assert.ok(lines.length >= 4);
    assert.deepEqual(lines.flatMap((words) => (words[0] === '--version' ? [] : checkCommandLine(top, words))), []);
    const plan = pipeline.plan as Yaml;
    const deploy = pipeline.deploy as Yaml;
    const out = /--out (\S+)/.exec(plan.script.join('\n'))![1]!;
    assert.ok(plan.artifacts.paths.includes(out));
    assert.deepEqual(deploy.needs, ['plan']);
    assert.equal(deploy.rules[0].when, 'manual');
    assert.equal(deploy.environment.name, 'production');
    assert.ok(deploy.script.includes(`mrsk apply ${out} -y`));
    assert.deepEqual(pipeline.drift.rules, [{ if: '$CI_PIPELINE_SOURCE == "schedule"' }]);
  });

  it('the checker itself refuses an unknown command or flag', async () => {
    const top = await program();
    assert.deepEqual(checkCommandLine(top, ['aply']), ['`mrsk aply`: no command aply']);
    assert.deepEqual(checkCommandLine(top, ['plan', '--outt', 'x']), ['`mrsk plan --outt x`: plan has no option --outt']);
    assert.deepEqual(checkCommandLine(top, ['apply', 'plan.mrsk', '-y', '-d', 'staging']), []);
  });
});
