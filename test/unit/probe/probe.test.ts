import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostError, HostKeyError, OutputLimitError, TimeoutError } from '../../../src/errors.ts';
import { transportProblem } from '../../../src/probe/probe.ts';

describe('transportProblem', () => {
  it('maps each kind of runner failure to its host state and keeps its message (which leaves the host out)', () => {
    const cases = [
      [new HostError('web1', 'connect ECONNREFUSED 10.0.0.1:22', { kind: 'unreachable' }), 'unreachable', 'connect ECONNREFUSED 10.0.0.1:22'],
      [new HostError('web1', 'authentication failed for root (tried agent, ~/.ssh/id_ed25519)', { kind: 'auth-failed' }), 'auth-failed', 'authentication failed for root (tried agent, ~/.ssh/id_ed25519)'],
      [new HostKeyError('web1', 'host key changed: SHA256:aaa → SHA256:bbb'), 'host-key-changed', 'host key changed: SHA256:aaa → SHA256:bbb'],
      [new HostKeyError('web1', 'unknown host key', { kind: 'host-key-unknown' }), 'host-key-changed', 'unknown host key'],
      [new HostError('web1', 'connect timeout after 10s', { kind: 'timeout' }), 'unreachable', 'connect timeout after 10s'],
      // SSH answered but the command did not finish: the host is unreadable, not unreachable
      [new TimeoutError('`sh -c …` timed out after 300s', { host: 'web1' }), 'unreadable', '`sh -c …` timed out after 300s'],
      [new OutputLimitError('web1', 'docker ps', 16 * 1024 * 1024), 'unreadable', '`docker ps` printed more than 16 MiB, mrsk\'s cap on what it reads from one host command; the command was stopped'],
      [new HostError('web1', 'SSH said \u001b[2Jhello', { kind: 'error' }), 'error', 'SSH said hello'],
      [new Error('something odd'), 'error', 'something odd'],
    ] as const;
    for (const [error, status, message] of cases) {
      assert.deepEqual(transportProblem('web1', error), { host: 'web1', status, message });
    }
  });
});
