// Non-interactive by design: without a terminal nothing is asked (a command that would ask stops
// with exit 64 naming -y), and CI=true turns colour and the animated progress off.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { confirm } from '../../../src/commands/shared/common.ts';
import type { CommandContext } from '../../../src/cli/context.ts';
import { Output, isCi } from '../../../src/cli/output.ts';
import { makeProgress } from '../../../src/views/progress.ts';
import { UsageError } from '../../../src/errors.ts';
import type { PlanStep } from '../../../src/plan/types.ts';

/** A stream that says it is a terminal, and what was written to it. */
function fakeTerminal(): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  const chunks: string[] = [];
  (stream as unknown as PassThrough).on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  Object.assign(stream, { isTTY: true, columns: 100, text: () => chunks.join('') });
  return stream;
}

function withEnv<T>(values: Record<string, string | undefined>, body: () => T): T {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return body();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

describe('confirm without a terminal', () => {
  it('asks nothing and stops with a usage error (exit 64) that names the flag to add', async () => {
    const isTTY = process.stdin.isTTY;
    Object.defineProperty(process.stdin, 'isTTY', { value: undefined, configurable: true });
    try {
      const ctx = { out: new Output() } as unknown as CommandContext;
      await assert.rejects(confirm(ctx, 'Apply these changes?', false), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.equal(error.exitCode, 64);
        assert.equal(
          error.message,
          'Apply these changes: refusing to proceed without a terminal to confirm on; nothing was changed. Add -y (--auto-approve) to run without asking',
        );
        return true;
      });
      await confirm(ctx, 'Apply these changes?', true); // -y: nothing asked, nothing refused
    } finally {
      Object.defineProperty(process.stdin, 'isTTY', { value: isTTY, configurable: true });
    }
  });
});

describe('CI=true', () => {
  it('is read as CI services set it', () => {
    assert.equal(isCi({ CI: 'true' }), true);
    assert.equal(isCi({ CI: '1' }), true);
    assert.equal(isCi({ CI: 'false' }), false);
    assert.equal(isCi({}), false);
  });

  it('turns colour off even on a terminal', () => {
    const terminal = fakeTerminal();
    withEnv({ CI: undefined, NO_COLOR: undefined, TERM: 'xterm' }, () => assert.equal(new Output({}, terminal, terminal).color, true));
    withEnv({ CI: 'true', NO_COLOR: undefined, TERM: 'xterm' }, () => assert.equal(new Output({}, terminal, terminal).color, false));
  });

  it('gives one plain line per finished step instead of the animated display', async () => {
    const terminal = fakeTerminal();
    const step = { id: 'h1/network', host: 'h1', action: { kind: 'network-create', network: 'mrsk' }, dependsOn: [] } as unknown as PlanStep;
    await withEnv({ CI: 'true' }, async () => {
      const out = new Output({}, terminal, terminal);
      const progress = makeProgress([step], out);
      progress.onEvent({ type: 'step-start', step });
      progress.onEvent({ type: 'step-end', step, status: 'done', ms: 1200 });
      await progress.finish();
    });
    assert.equal(terminal.text(), '  h1  create network mrsk ok (1.2s)\n');
  });
});
