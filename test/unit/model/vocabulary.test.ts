// The vocabulary (src/model): label keys and names are what a later run reads back from a host to
// find what an earlier run made, so their exact bytes are pinned here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as labels from '../../../src/model/labels.ts';
import { CORD_FILE, CORD_MOUNT, MRSK_NETWORK, TRAEFIK_CONTAINER, containerName, cordDirFor, cordDirOfContainer, roleKey } from '../../../src/model/names.ts';

const HASH = 'v1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

describe('label keys', () => {
  it('are the keys deployed containers carry (changing one disowns every running container)', () => {
    assert.deepEqual(
      [labels.SERVICE_LABEL, labels.DESTINATION_LABEL, labels.ROLE_LABEL, labels.VERSION_LABEL, labels.SPEC_HASH_LABEL, labels.SPEC_PARTS_LABEL, labels.TRAEFIK_LABEL],
      ['mrsk.service', 'mrsk.destination', 'mrsk.role', 'mrsk.version', 'mrsk.spec-hash', 'mrsk.spec-parts', 'mrsk.traefik'],
    );
    assert.deepEqual([labels.KAMAL_SERVICE_LABEL, labels.KAMAL_ROLE_LABEL, labels.KAMAL_DESTINATION_LABEL], ['service', 'role', 'destination']);
    assert.deepEqual([labels.TRAEFIK_ENABLE_LABEL, labels.TRAEFIK_NETWORK_LABEL], ['traefik.enable', 'traefik.docker.network']);
  });

  it("every mrsk key starts with the prefix that tells mrsk's containers from Kamal's", () => {
    for (const key of [labels.SERVICE_LABEL, labels.DESTINATION_LABEL, labels.ROLE_LABEL, labels.VERSION_LABEL, labels.SPEC_HASH_LABEL, labels.SPEC_PARTS_LABEL, labels.TRAEFIK_LABEL]) {
      assert.ok(key.startsWith(labels.MRSK_LABEL_PREFIX), key);
    }
    for (const key of [labels.KAMAL_SERVICE_LABEL, labels.KAMAL_ROLE_LABEL, labels.KAMAL_DESTINATION_LABEL]) assert.ok(!key.startsWith(labels.MRSK_LABEL_PREFIX), key);
  });

  it('the Traefik service port label is written and read back by one rule', () => {
    assert.equal(labels.traefikServicePortLabel('app-web'), 'traefik.http.services.app-web.loadbalancer.server.port');
    for (const service of ['app-web', 'a.b', 'x', 'app-web-staging']) assert.equal(labels.traefikServiceOfLabel(labels.traefikServicePortLabel(service)), service);
    assert.equal(labels.traefikServiceOfLabel(labels.traefikServicePortLabel('')), undefined);
    assert.equal(labels.traefikServiceOfLabel('traefik.http.services.loadbalancer.server.port'), undefined, 'prefix and suffix overlap: no name');
    assert.equal(labels.traefikServiceOfLabel('traefik.http.routers.app-web.service'), undefined);
    assert.equal(labels.traefikServiceOfLabel('traefik.http.services.app-web.loadbalancer.server.scheme'), undefined);
  });
});

describe('names', () => {
  it('pins the constants hosts already have', () => {
    assert.equal(MRSK_NETWORK, 'mrsk');
    assert.equal(TRAEFIK_CONTAINER, 'traefik');
    assert.equal(`${CORD_MOUNT}/${CORD_FILE}`, '/run/mrsk/cord/ok');
  });

  it('roleKey is service-role[-destination], lower-cased as Kamal names containers', () => {
    assert.equal(roleKey('app', 'web'), 'app-web');
    assert.equal(roleKey('app', 'web', 'staging'), 'app-web-staging');
    assert.equal(roleKey('App', 'Web', 'Prod'), 'app-web-prod');
    assert.equal(roleKey('app', 'web', ''), 'app-web', 'an empty destination is none');
  });

  it('containerName appends the version as it is', () => {
    assert.equal(containerName('app', 'web', 'v1'), 'app-web-v1');
    assert.equal(containerName('App', 'web', 'ABC123', 'prod'), 'app-web-prod-ABC123');
  });

  it('a cord folder is per container instance: name plus 12 hex digits of the spec hash', () => {
    assert.equal(cordDirFor('app', 'app-web-v1', undefined, HASH), '.mrsk/app/cords/app-web-v1-0123456789ab');
    assert.equal(cordDirFor('app', 'app-web-prod-v1', 'prod', HASH), '.mrsk/app-prod/cords/app-web-prod-v1-0123456789ab');
    assert.equal(cordDirFor('app', 'app-web-v1', undefined, ''), '.mrsk/app/cords/app-web-v1', 'no hash: the name alone');
    assert.equal(cordDirFor('app', 'app-web-v1', undefined, 'v1:edited-by-hand'), '.mrsk/app/cords/app-web-v1');
  });

  it("a container's cord folder follows from its labels, so a renamed-aside container keeps its own", () => {
    const labelsOf = { 'mrsk.role': 'web', 'mrsk.version': 'v1', 'mrsk.spec-hash': HASH };
    const expected = '.mrsk/app/cords/app-web-v1-0123456789ab';
    assert.equal(cordDirOfContainer('app', undefined, 'app-web-v1', labelsOf), expected);
    assert.equal(cordDirOfContainer('app', undefined, 'app-web-v1_replaced_0123456789ab', labelsOf), expected);
    assert.equal(cordDirOfContainer('app', undefined, 'hand-made', {}), '.mrsk/app/cords/hand-made', 'without labels: its name');
  });
});
