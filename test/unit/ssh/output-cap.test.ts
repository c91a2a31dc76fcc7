// The cap on what mrsk reads from one host command (src/ssh/channel.ts collectOutput), on a fake
// channel; the real sshd cases (50 MB, endless `yes`, a hang) are in test/integration/ssh/hostile.test.ts.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { collectOutput, DEFAULT_MAX_OUTPUT_BYTES } from '../../../src/ssh/channel.ts';
import { describeError, formatBytes, HostError, OutputLimitError } from '../../../src/errors.ts';

function fakeChannel() {
  const channel = new EventEmitter() as EventEmitter & { stderr: EventEmitter };
  channel.stderr = new EventEmitter();
  return channel;
}

describe('collectOutput', () => {
  it('keeps stdout and stderr apart under the cap and feeds the callbacks decoded text', () => {
    const channel = fakeChannel();
    const seen: string[] = [];
    let limited = 0;
    const collected = collectOutput(channel, { onStdout: (text) => seen.push(text) }, 100, () => limited++);
    const euro = Buffer.from('€');
    channel.emit('data', euro.subarray(0, 1)); // a character split across chunks
    channel.emit('data', euro.subarray(1));
    channel.stderr.emit('data', Buffer.from('warn\n'));
    assert.equal(collected.stdout(), '€');
    assert.equal(collected.stderr(), 'warn\n');
    assert.equal(seen.join(''), '€');
    assert.equal(limited, 0);
  });

  it('counts stdout and stderr together, calls onLimit once past the cap and drops what it held', () => {
    const channel = fakeChannel();
    let limited = 0;
    const collected = collectOutput(channel, {}, 10, () => limited++);
    channel.emit('data', Buffer.from('123456'));
    channel.stderr.emit('data', Buffer.from('1234')); // exactly 10: still fine
    assert.equal(limited, 0);
    channel.stderr.emit('data', Buffer.from('x'));
    assert.equal(limited, 1);
    for (let i = 0; i < 1000; i++) channel.emit('data', Buffer.alloc(1024, 'y')); // read on, only to discard
    assert.equal(limited, 1);
    assert.equal(collected.stdout(), '');
    assert.equal(collected.stderr(), '');
  });

  it('keepOutput: false streams to the callbacks only, and Infinity never stops a stream', () => {
    const channel = fakeChannel();
    let streamed = 0;
    let limited = 0;
    const collected = collectOutput(channel, { keepOutput: false, onStdout: (text) => (streamed += text.length) }, Number.POSITIVE_INFINITY, () => limited++);
    const chunk = Buffer.alloc(64 * 1024, 'z');
    for (let i = 0; i < 400; i++) channel.emit('data', chunk); // 25 MiB, more than the default cap
    assert.equal(streamed, 400 * chunk.length);
    assert.equal(limited, 0);
    assert.equal(collected.stdout(), '');
  });
});

describe('OutputLimitError', () => {
  it('names the host, the command and the cap, and makes the host unreadable', () => {
    const error = new OutputLimitError('web1', 'docker ps', DEFAULT_MAX_OUTPUT_BYTES);
    assert.ok(error instanceof HostError);
    assert.equal(error.kind, 'unreadable');
    assert.equal(error.host, 'web1');
    assert.equal(error.limitBytes, 16 * 1024 * 1024);
    assert.equal(error.message, "`docker ps` printed more than 16 MiB, mrsk's cap on what it reads from one host command; the command was stopped");
    assert.equal(describeError(error), `web1: ${error.message}`);
  });

  it('formats caps in the unit they were given in', () => {
    assert.equal(formatBytes(16 * 1024 * 1024), '16 MiB');
    assert.equal(formatBytes(512 * 1024), '512 KiB');
    assert.equal(formatBytes(1000), '1000 B');
  });
});
