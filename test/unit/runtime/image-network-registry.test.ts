import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IMAGE_ENTRY_FORMAT,
  createNetwork,
  removeNetwork,
  inspectImages,
  inspectNetwork,
  listImageIds,
  listImages,
  listNetworks,
  login,
  logout,
  pullImage,
  push,
  removeImage,
  tag,
} from '../../../src/runtime/index.ts';

describe('image builders', () => {
  it('pull, tag, push, remove', () => {
    assert.deepEqual(pullImage('docker', 'registry.example.com/acme/app:v1'), ['docker', 'pull', 'registry.example.com/acme/app:v1']);
    assert.deepEqual(tag('acme/app:v1', 'acme/app:latest'), ['docker', 'tag', 'acme/app:v1', 'acme/app:latest']);
    assert.deepEqual(push('acme/app:v1'), ['docker', 'push', 'acme/app:v1']);
    assert.deepEqual(removeImage('docker', 'acme/app:v1'), ['docker', 'image', 'rm', 'acme/app:v1']);
  });

  it('lists images of a repository with full ids, as JSON lines or ids only', () => {
    assert.deepEqual(listImages('docker', '10.0.0.1:5000/acme/app'), [
      'docker', 'image', 'ls', '--no-trunc', '--filter', 'reference=10.0.0.1:5000/acme/app', '--format', IMAGE_ENTRY_FORMAT,
    ]);
    assert.deepEqual(listImageIds('docker', ['acme/app', 'acme/worker']), [
      'docker', 'image', 'ls', '-q', '--no-trunc', '--filter', 'reference=acme/app', '--filter', 'reference=acme/worker',
    ]);
    assert.deepEqual(inspectImages('docker', ['sha256:1']), ['docker', 'image', 'inspect', 'sha256:1']);
    assert.deepEqual(inspectImages('docker', ['sha256:1'], { format: '{{.Id}}' }), ['docker', 'image', 'inspect', '--format', '{{.Id}}', 'sha256:1']);
  });
});

describe('network builders', () => {
  it('create, inspect, list', () => {
    assert.deepEqual(createNetwork('docker', 'mrsk'), ['docker', 'network', 'create', 'mrsk']);
    assert.deepEqual(removeNetwork('docker', 'mrsk'), ['docker', 'network', 'rm', 'mrsk']);
    assert.deepEqual(inspectNetwork('docker', 'mrsk'), ['docker', 'network', 'inspect', 'mrsk']);
    assert.deepEqual(listNetworks('docker'), ['docker', 'network', 'ls', '--format', '{{.Name}}']);
  });
});

describe('registry builders', () => {
  it('logs in with the password on stdin, to a named registry or Docker Hub', () => {
    assert.deepEqual(login('docker', 'registry.example.com', 'deployer'), [
      'docker', 'login', '--username', 'deployer', '--password-stdin', 'registry.example.com',
    ]);
    assert.deepEqual(login('docker', undefined, 'deployer'), ['docker', 'login', '--username', 'deployer', '--password-stdin']);
  });

  it('logs out of a named registry or Docker Hub', () => {
    assert.deepEqual(logout('docker', 'registry.example.com'), ['docker', 'logout', 'registry.example.com']);
    assert.deepEqual(logout('docker'), ['docker', 'logout']);
  });
});
