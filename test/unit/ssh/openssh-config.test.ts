import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { expandTilde, parseJumpSpec, resolveOpenSshHost } from '../../../src/ssh/openssh-config.ts';

const context = { home: '/home/me', localUser: 'me' };
const CONFIG = `
IdentityFile ~/.ssh/global

Host web*
  HostName 10.0.0.%h
  User deploy
  Port 2222
  IdentityFile ~/.ssh/%r-%h
  ProxyJump jump@bastion.example.com:2200

Host direct
  ProxyJump none

Host *
  User fallback
  IdentityFile %d/.ssh/%u-default

Match exec "touch /tmp/mrsk-should-not-exist"
  User pwned
`;

describe('resolveOpenSshHost', () => {
  it('applies HostName (with %h), User, Port, IdentityFile and ProxyJump, first value winning', () => {
    assert.deepEqual(resolveOpenSshHost(CONFIG, 'web1', context), {
      hostName: '10.0.0.web1',
      user: 'deploy',
      port: 2222,
      identityFiles: ['/home/me/.ssh/global', '/home/me/.ssh/deploy-10.0.0.web1', '/home/me/.ssh/me-default'],
      proxyJump: 'jump@bastion.example.com:2200',
    });
  });

  it('keeps the alias as the address when HostName is not set, and treats ProxyJump none as no jump', () => {
    const settings = resolveOpenSshHost(CONFIG, 'direct', context);
    assert.equal(settings.hostName, 'direct');
    assert.equal(settings.user, 'fallback');
    assert.equal(settings.port, undefined);
    assert.equal(settings.proxyJump, undefined);
  });

  it('returns only the host name for an empty config', () => {
    assert.deepEqual(resolveOpenSshHost('', 'a.example.com', context), { hostName: 'a.example.com', identityFiles: [] });
  });

  it('never runs Match exec commands', () => {
    resolveOpenSshHost(CONFIG, 'other', context);
    assert.equal(existsSync('/tmp/mrsk-should-not-exist'), false);
  });
});

describe('parseJumpSpec', () => {
  it('splits user@host:port and accepts each part being optional', () => {
    assert.deepEqual(parseJumpSpec('ops@bastion.example.com:2200'), { user: 'ops', host: 'bastion.example.com', port: 2200 });
    assert.deepEqual(parseJumpSpec('bastion'), { host: 'bastion' });
    assert.deepEqual(parseJumpSpec('root@[::1]:22'), { user: 'root', host: '::1', port: 22 });
  });

  it('rejects malformed specs', () => {
    assert.equal(parseJumpSpec('a@b@c'), undefined);
    assert.equal(parseJumpSpec('host:port'), undefined);
    assert.equal(parseJumpSpec(''), undefined);
  });
});

describe('expandTilde', () => {
  it('expands ~ and ~/ only', () => {
    assert.equal(expandTilde('~/.ssh/id', '/h'), '/h/.ssh/id');
    assert.equal(expandTilde('~', '/h'), '/h');
    assert.equal(expandTilde('~other/x', '/h'), '~other/x');
    assert.equal(expandTilde('/abs', '/h'), '/abs');
  });
});
