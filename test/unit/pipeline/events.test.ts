// Events for machines and pipeline niceties: the NDJSON stream validates against
// schemas/events.schema.json; GitHub annotations and step-summary Markdown; GitLab sections.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { ConfigError } from '../../../src/errors.ts';
import {
  EVENT_COMMANDS,
  EventStream,
  beginRun,
  commandOf,
  endRun,
  githubAnnotations,
  gitlabHostSections,
  noteStep,
  notePlan,
  pipelineKind,
  planMarkdown,
} from '../../../src/cli/pipeline.ts';
import { makeConfig } from '../helpers/config.ts';
import { emptySnapshot } from '../helpers/snapshot.ts';
import type { StepKind } from '../../../src/plan/types.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const schema = JSON.parse(readFileSync(new URL('../../../schemas/events.schema.json', import.meta.url), 'utf8'));

/** The compiled schema; exported shape used by the e2e test too. */
function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

function aPlan() {
  const config = makeConfig();
  return diff(deriveDesired(config, 'v2'), emptySnapshot(config), { hosts: [...config.hosts], roles: config.roles.map((r) => r.name) });
}

describe('NDJSON events', () => {
  it('plan, step and summary events validate against schemas/events.schema.json, the summary last', () => {
    const lines: string[] = [];
    const stream = new EventStream('deploy', (line) => lines.push(line));
    const plan = aPlan();
    assert.ok(plan.steps.length > 2);
    stream.plan(plan);
    const [first, second] = plan.steps;
    stream.step({ type: 'step-start', step: first! });
    stream.step({ type: 'step-progress', step: first!, message: 'pulling' });
    stream.step({ type: 'step-end', step: first!, status: 'done', ms: 1234.4 });
    stream.step({ type: 'batch-wait', batch: 1, seconds: 5 });
    stream.step({ type: 'step-end', step: second!, status: 'failed', ms: 10, error: new Error('boom \u001b[31mred') });
    stream.summary(1, new Error('apply failed'));
    stream.summary(1); // once only
    const validate = validator();
    const events = lines.map((line) => {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one object per line');
      return JSON.parse(line);
    });
    for (const event of events) assert.ok(validate(event), `${event.type}: ${JSON.stringify(validate.errors)}`);
    assert.deepEqual(events.map((e) => e.type), ['plan', 'step_started', 'step_progress', 'step_finished', 'batch_wait', 'step_finished', 'summary']);
    const summary = events.at(-1);
    assert.equal(summary.format_version, '1');
    assert.equal(summary.exit_code, 1);
    assert.equal(summary.ok, false);
    assert.equal(summary.version, 'v2');
    assert.deepEqual(summary.steps, { done: 1, failed: 1, skipped: 0 });
    assert.equal(events[3].duration_ms, 1234);
    assert.ok(!events[5].error.includes('\u001b'), 'host text is sanitized');
  });

  it('a run that ends before any plan still ends with a valid summary', () => {
    const lines: string[] = [];
    new EventStream('apply', (line) => lines.push(line)).summary(78, new ConfigError('config/deploy.yml:3:1 ssh.key_data[0]: secret X is not set'));
    const event = JSON.parse(lines[0]!) as { service: unknown; changes: unknown };
    assert.ok(validator()(event));
    assert.equal(event.service, null);
    assert.equal(event.changes, null);
  });

  it('the schema names every step kind (a plan of traefik reboot, remove or prune validates)', () => {
    // a Record over StepKind: a new kind does not compile until it is listed here, and then the schema must list it
    const kinds: Readonly<Record<StepKind, true>> = {
      'network-create': true, 'image-pull': true, 'container-run': true, 'assets-prepare': true, 'traefik-run': true,
      'container-start': true, 'container-wait-healthy': true, 'traefik-wait-up': true, 'container-drain': true,
      'container-stop': true, 'container-remove': true, 'image-remove': true, 'release-record': true, 'network-remove': true,
      'traefik-wait-ready': true, 'state-remove': true, 'registry-logout': true, 'traefik-file-write': true, 'traefik-file-remove': true,
      'accessory-prepare': true, 'accessory-run': true, 'accessory-data-remove': true,
      'podman-service-start': true, 'podman-service-stop': true,
    };
    assert.deepEqual([...(schema.definitions.stepKind.enum as string[])].sort(), Object.keys(kinds).sort());
  });

  it("the summary schema names every command that streams events (EVENT_COMMANDS)", () => {
    const summary = (schema.oneOf as { $ref: string }[]).map((o) => schema.definitions[o.$ref.split('/').at(-1)!]).find((d) => d.properties?.type?.const === 'summary' && d.properties?.command?.enum);
    assert.deepEqual([...(summary.properties.command.enum as string[])].sort(), [...EVENT_COMMANDS].sort());
  });

  it('the schema refuses an event of an unknown type or a step without its host', () => {
    const validate = validator();
    assert.equal(validate({ format_version: '1', type: 'hello', time: new Date().toISOString() }), false);
    assert.equal(validate({ format_version: '1', type: 'step_started', time: new Date().toISOString(), step: 'a', address: 'a', kind: 'image-pull' }), false);
  });

  it('--json turns the stream on for the commands that change hosts only', () => {
    assert.ok(beginRun('deploy', ['deploy', '--json'], {}, () => {}));
    assert.equal(beginRun('plan', ['plan', '--json'], {}, () => {}), undefined);
    assert.equal(beginRun('deploy', ['deploy'], {}, () => {}), undefined);
    assert.equal(commandOf(['-d', 'staging', '-c', 'x.yml', 'apply', 'plan.mrsk', '--json']), 'apply');
  });
});

describe('GitHub Actions', () => {
  it('is detected from GITHUB_ACTIONS, GitLab from GITLAB_CI, nothing elsewhere', () => {
    assert.equal(pipelineKind({ GITHUB_ACTIONS: 'true' }), 'github');
    assert.equal(pipelineKind({ GITLAB_CI: 'true' }), 'gitlab');
    assert.equal(pipelineKind({ CI: 'true' }), undefined);
  });

  it('config errors become ::error annotations with file, line, column and escaped text', () => {
    const error = new ConfigError([
      { file: 'config/deploy.yml', line: 12, col: 5, path: 'ssh.key_data[0]', message: 'secret DEPLOY_KEY is not set; looked in the environment, .mrsk/secrets' },
      { file: 'config/deploy.yml', path: '', message: '100% wrong\nsecond line' },
    ]);
    assert.equal(
      githubAnnotations(error),
      '::error file=config/deploy.yml,line=12,col=5,title=mrsk config%3A ssh.key_data[0]::secret DEPLOY_KEY is not set; looked in the environment, .mrsk/secrets\n' +
        '::error file=config/deploy.yml,title=mrsk config::100%25 wrong%0Asecond line\n',
    );
  });

  it('the plan and the result are appended to $GITHUB_STEP_SUMMARY as Markdown', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrsk-summary-'));
    try {
      const file = join(dir, 'summary.md');
      const annotations: string[] = [];
      beginRun('deploy', ['deploy'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: file });
      const plan = aPlan();
      notePlan(plan);
      noteStep({ type: 'step-end', step: plan.steps[0]!, status: 'done', ms: 2500 });
      endRun(0, undefined, (text) => annotations.push(text));
      const markdown = readFileSync(file, 'utf8');
      assert.match(markdown, /^### mrsk deploy: Plan\n\napp, version `v2`: \*\*\d+ to add, 0 to change, 0 to replace, 0 to destroy\.\*\*/);
      assert.match(markdown, /\| `\+` \| /);
      assert.match(markdown, /### mrsk deploy: done\n\n\| host \| step \| result \| time \|/);
      assert.match(markdown, /\| done \| 2\.5s \|/);
      assert.deepEqual(annotations, []);
      assert.ok(!markdown.includes('[REDACTED]') || !/DATABASE_URL=/.test(markdown));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      beginRun(undefined, [], {});
    }
  });

  it('an empty plan says so', () => {
    const config = makeConfig();
    const plan = { ...aPlan(), steps: [] };
    assert.match(planMarkdown(plan, 'Plan'), /no changes\. Hosts match the configuration\./);
    assert.equal(config.service.length > 0, true);
  });
});

describe('GitLab CI', () => {
  it('one collapsible section per host, expanded when a step of that host failed', () => {
    const plan = aPlan();
    const hosts = [...new Set(plan.steps.map((s) => s.host))];
    assert.ok(hosts.length >= 2);
    const steps = plan.steps.map((step, index) => ({ step, status: index === plan.steps.length - 1 ? 'failed' : 'done', ms: 1000 }));
    const text = gitlabHostSections(steps, 1_700_000_000_000);
    const starts = text.match(/\u001b\[0Ksection_start:1700000000:mrsk_host_\d\[collapsed=(true|false)\]\r\u001b\[0K[^\n]+/g) ?? [];
    assert.equal(starts.length, hosts.length);
    assert.equal((text.match(/section_end:1700000000:mrsk_host_\d/g) ?? []).length, hosts.length);
    const lastHost = plan.steps.at(-1)!.host;
    assert.ok(starts.some((line) => line.includes('[collapsed=false]') && line.includes(`${lastHost}: `) && line.includes('1 failed')));
  });
});

describe('drift --json', () => {
  it("drift's report is its summary line: one object, its own fields at the top, valid against the schema", () => {
    const lines: string[] = [];
    const stream = new EventStream('drift', (line) => lines.push(line));
    stream.commandSummary(2, { formatVersion: '1', hosts: [{ host: 'h1', status: 'checked', findings: [] }], summary: { fixable: 1 }, exitCode: 2 });
    stream.summary(2); // the generic summary is not written after it
    assert.equal(lines.length, 1);
    const event = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.ok(validator()(event), JSON.stringify(validator().errors));
    assert.equal(event.type, 'summary');
    assert.equal(event.command, 'drift');
    assert.equal(event.exitCode, 2);
    assert.equal(event.ok, false);
  });
});
