// The executor's scheduling: dependency order, parallel independent steps, batches with their
// wait, and what a failure does (dependents skipped, later batches never start). Steps are
// carried out by a recording stand-in here; the e2e suite runs the real steps on real hosts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { executePlan, type ExecutorEvent } from '../../../src/apply/executor.ts';
import type { Plan, PlanStep } from '../../../src/plan/types.ts';
import type { Runner } from '../../../src/ssh/types.ts';
import { InternalError } from '../../../src/errors.ts';

const noRunner: Runner = {
  exec: async () => assert.fail('the scheduling tests run no command'),
  upload: async () => assert.fail('no upload'),
  close: async () => {},
  stats: () => ({}),
};

function step(id: string, host: string, dependsOn: string[] = [], batch = 0): PlanStep {
  return {
    id,
    host,
    address: `${host}/container/${id}`,
    symbol: '+',
    actions: ['create'],
    cause: 'test',
    dependsOn,
    precondition: {},
    batch,
    action: { kind: 'image-pull', image: `img:${id}` },
  };
}

function plan(steps: PlanStep[], batchWait = 0): Plan {
  return { formatVersion: '1', service: 'app', version: 'v1', steps, blockedHosts: [], snapshotFingerprint: 'x', batchWait };
}

interface Trace {
  starts: string[];
  ends: string[];
  maxConcurrent: number;
}

async function execute(p: Plan, behaviour: (id: string) => Promise<void> = async () => {}, events: ExecutorEvent[] = []) {
  const trace: Trace = { starts: [], ends: [], maxConcurrent: 0 };
  let running = 0;
  const result = await executePlan({
    runner: noRunner,
    secrets: [],
    plan: p,
    service: 'app',
    homes: {},
    appliedBy: 'test@here',
    onEvent: (e) => events.push(e),
    stepRunner: async (_ctx, s) => {
      trace.starts.push(s.id);
      running += 1;
      trace.maxConcurrent = Math.max(trace.maxConcurrent, running);
      try {
        await behaviour(s.id);
      } finally {
        running -= 1;
        trace.ends.push(s.id);
      }
    },
  });
  return { result, trace };
}

const tick = (ms = 10) => new Promise<void>((r) => setTimeout(r, ms));

describe('executePlan', () => {
  test('runs every step after the steps it depends on', async () => {
    const p = plan([step('pull', 'h1'), step('run', 'h1', ['pull']), step('wait', 'h1', ['run']), step('stop-old', 'h1', ['wait'])]);
    const { result, trace } = await execute(p, () => tick(2));
    assert.equal(result.ok, true);
    assert.deepEqual(trace.starts, ['pull', 'run', 'wait', 'stop-old']);
    assert.deepEqual(Object.values(result.statuses), ['done', 'done', 'done', 'done']);
  });

  test('independent steps (other hosts) run at the same time', async () => {
    const p = plan([step('a1', 'h1'), step('b1', 'h2'), step('c1', 'h3'), step('a2', 'h1', ['a1'])]);
    const { trace } = await execute(p, () => tick(30));
    assert.equal(trace.maxConcurrent, 3);
    assert.ok(trace.starts.indexOf('a2') > trace.ends.indexOf('a1') - 1 && trace.ends.indexOf('a1') < trace.ends.indexOf('a2'));
  });

  test('a failed step skips its dependents, other hosts finish, and the result says why', async () => {
    const p = plan([
      step('h1-run', 'h1'),
      step('h1-wait', 'h1', ['h1-run']),
      step('h1-drain-old', 'h1', ['h1-wait']),
      step('h1-stop-old', 'h1', ['h1-drain-old']),
      step('h2-run', 'h2'),
      step('h2-wait', 'h2', ['h2-run']),
    ]);
    const events: ExecutorEvent[] = [];
    const { result, trace } = await execute(p, async (id) => {
      await tick(2);
      if (id === 'h1-wait') throw new Error('never healthy');
    }, events);
    assert.equal(result.ok, false);
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0]!.step.id, 'h1-wait');
    assert.equal(result.failures[0]!.error.message, 'never healthy');
    assert.equal(result.statuses['h1-drain-old'], 'skipped');
    assert.equal(result.statuses['h1-stop-old'], 'skipped');
    assert.equal(result.statuses['h2-wait'], 'done');
    assert.ok(!trace.starts.includes('h1-drain-old') && !trace.starts.includes('h1-stop-old'), 'the old container must never be touched');
    const skippedEvents = events.filter((e) => e.type === 'step-end' && e.status === 'skipped').map((e) => (e as { step: PlanStep }).step.id);
    assert.deepEqual(skippedEvents.sort(), ['h1-drain-old', 'h1-stop-old']);
  });

  test('batches run one after another with boot.wait between, and a failure stops later batches', async () => {
    const events: ExecutorEvent[] = [];
    const p = plan([step('b0', 'h1', [], 0), step('b1', 'h2', [], 1), step('b2', 'h3', [], 2)], 0.05);
    const started = Date.now();
    const { trace } = await execute(p, () => tick(5), events);
    assert.deepEqual(trace.starts, ['b0', 'b1', 'b2']);
    assert.ok(Date.now() - started >= 100, 'two waits of 50 ms');
    assert.equal(events.filter((e) => e.type === 'batch-wait').length, 2);

    const failing = plan([step('b0', 'h1', [], 0), step('b1', 'h2', [], 1)]);
    const { result, trace: t2 } = await execute(failing, async (id) => {
      if (id === 'b0') throw new Error('bad host');
    });
    assert.deepEqual(t2.starts, ['b0']);
    assert.equal(result.statuses.b1, 'skipped');
  });

  test('an empty plan succeeds without running anything', async () => {
    const { result, trace } = await execute(plan([]));
    assert.equal(result.ok, true);
    assert.deepEqual(trace.starts, []);
  });
});

describe('executePlan on an inconsistent plan', () => {
  test('steps that wait on each other fail the run (exit 70) instead of being skipped with success', async () => {
    const { result } = await execute(plan([step('a', 'h1'), step('b', 'h1', ['c']), step('c', 'h1', ['b'])]));
    assert.equal(result.ok, false);
    assert.deepEqual(result.statuses, { a: 'done', b: 'failed', c: 'failed' });
    assert.ok(result.failures.every((f) => f.error instanceof InternalError && /can never finish/.test(f.error.message)));
  });
  test('a step waiting on a step of a later batch fails too', async () => {
    const { result } = await execute(plan([step('a', 'h1', ['b'], 0), step('b', 'h2', [], 1)]));
    assert.equal(result.ok, false);
    assert.equal(result.statuses.a, 'failed');
  });
});
