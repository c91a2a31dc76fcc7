// The one table of step wording (src/views/steps.ts): every kind's plan description (the verbose
// plan) and its progress label (live progress, log lines, failure lines), text for text. The
// labels are what the line-per-step log, the e2e and fault suites wait for, so a change here is
// a change of output that scripts may read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeAction, describeStep } from '../../../src/views/steps.ts';
import type { PlanStep, StepAction, StepKind } from '../../../src/plan/types.ts';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const SHORT = '0123456789ab';

/** One action of every kind, its plan description and its progress label. */
const CASES: { readonly [K in StepKind]: readonly { readonly action: Extract<StepAction, { kind: K }>; readonly plan: string; readonly label: string }[] } = {
  'network-create': [{ action: { kind: 'network-create', network: 'mrsk' }, plan: 'create network mrsk', label: 'create network mrsk' }],
  'image-pull': [{ action: { kind: 'image-pull', image: `reg/app:${COMMIT}` }, plan: `pull reg/app:${COMMIT}`, label: `pull reg/app:${SHORT}` }],
  'container-run': [
    {
      action: { kind: 'container-run', spec: { name: `app-web-${COMMIT}`, image: `reg/app:${COMMIT}` } } as Extract<StepAction, { kind: 'container-run' }>,
      plan: `run app-web-${COMMIT} (reg/app:${COMMIT})`,
      label: `start app-web-${SHORT}`,
    },
    {
      action: { kind: 'container-run', spec: { name: 'app-web-v2', image: 'reg/app:v2' }, replaces: { containerId: 'c1', renameTo: 'app-web-v2_replaced_1' } } as Extract<StepAction, { kind: 'container-run' }>,
      plan: 'rename the running app-web-v2 to app-web-v2_replaced_1, then run app-web-v2 (reg/app:v2)',
      label: 'start app-web-v2',
    },
  ],
  'assets-prepare': [
    {
      action: { kind: 'assets-prepare', name: 'app-web-v2', image: 'reg/app:v2', assetPath: '/app/public', hostDir: '.mrsk/assets/v2', previousDirs: [] },
      plan: 'copy /app/public of reg/app:v2 to ~/.mrsk/assets/v2',
      label: 'prepare assets of app-web-v2',
    },
    {
      action: { kind: 'assets-prepare', name: 'app-web-v2', image: 'reg/app:v2', assetPath: '/app/public', hostDir: '.mrsk/assets/v2', previousDirs: ['.mrsk/assets/v1', '.mrsk/assets/v0'] },
      plan: 'copy /app/public of reg/app:v2 to ~/.mrsk/assets/v2, merged with ~/.mrsk/assets/v1, ~/.mrsk/assets/v0 both ways',
      label: 'prepare assets of app-web-v2',
    },
  ],
  'traefik-run': [
    {
      action: { kind: 'traefik-run', spec: { name: 'traefik', image: 'traefik:v3.1' } } as Extract<StepAction, { kind: 'traefik-run' }>,
      plan: 'run traefik (traefik:v3.1)',
      label: 'start Traefik (traefik:v3.1)',
    },
  ],
  'traefik-file-write': [
    {
      action: { kind: 'traefik-file-write', file: { name: 'app.yml', transports: {}, certificates: [], hash: 'v1:x' } },
      plan: 'write ~/.mrsk/traefik/dynamic/app.yml (mode 0600)',
      label: "write Traefik's app.yml",
    },
    {
      action: { kind: 'traefik-file-write', file: { name: 'app.yml', transports: {}, certificates: [{}, {}], hash: 'v1:x' } } as unknown as Extract<StepAction, { kind: 'traefik-file-write' }>,
      plan: 'write ~/.mrsk/traefik/dynamic/app.yml (mode 0600, 2 certificate(s) from secrets, values hidden)',
      label: "write Traefik's app.yml",
    },
  ],
  'traefik-file-remove': [{ action: { kind: 'traefik-file-remove', name: 'app.yml' }, plan: 'remove ~/.mrsk/traefik/dynamic/app.yml', label: "remove Traefik's app.yml" }],
  'accessory-prepare': [
    {
      action: {
        kind: 'accessory-prepare',
        name: 'redis',
        directories: ['.mrsk/app/accessories/redis/data/data', '/srv/redis'],
        files: [{ localPath: '/p/config/redis.conf', hostPath: '.mrsk/app/accessories/redis/files/etc/redis.conf', remote: '/etc/redis.conf', mode: '0640', owner: '999', hash: 'sha256:00' }],
      },
      plan: 'create ~/.mrsk/app/accessories/redis/data/data, /srv/redis; upload /p/config/redis.conf to ~/.mrsk/app/accessories/redis/files/etc/redis.conf (mode 0640, owner 999)',
      label: 'prepare accessory redis',
    },
    { action: { kind: 'accessory-prepare', name: 'redis', directories: [], files: [] }, plan: 'prepare redis', label: 'prepare accessory redis' },
  ],
  'accessory-run': [
    {
      action: { kind: 'accessory-run', spec: { containerName: 'app-redis', image: 'redis:7', ports: ['127.0.0.1:6379:6379'] } } as unknown as Extract<StepAction, { kind: 'accessory-run' }>,
      plan: 'run app-redis (redis:7, publishes 127.0.0.1:6379:6379)',
      label: 'start app-redis',
    },
    { action: { kind: 'accessory-run', spec: { containerName: 'app-redis', image: 'redis:7', ports: [] } } as unknown as Extract<StepAction, { kind: 'accessory-run' }>, plan: 'run app-redis (redis:7)', label: 'start app-redis' },
  ],
  'accessory-data-remove': [
    {
      action: { kind: 'accessory-data-remove', name: 'redis', dirs: ['.mrsk/app/accessories/redis', '/srv/redis'] },
      plan: 'delete the data of redis: ~/.mrsk/app/accessories/redis, /srv/redis',
      label: 'delete the data of redis',
    },
  ],
  'container-start': [{ action: { kind: 'container-start', containerId: 'c1', name: 'app-web-v1' }, plan: 'start app-web-v1', label: 'start app-web-v1' }],
  'container-wait-healthy': [
    {
      action: { kind: 'container-wait-healthy', name: 'app-web-v2', timeout: 30, readinessDelay: 7 },
      plan: 'wait until app-web-v2 is healthy, or up 7s if it has no healthcheck (timeout 30s)',
      label: 'wait until app-web-v2 is healthy',
    },
  ],
  'traefik-wait-up': [
    {
      action: { kind: 'traefik-wait-up', name: 'app-web-v2', service: 'app-web', apiPort: 8080, timeout: 30 },
      plan: 'wait until Traefik routes to app-web-v2 (service app-web)',
      label: 'wait until Traefik routes to app-web-v2',
    },
  ],
  'container-drain': [
    {
      action: { kind: 'container-drain', containerId: 'c1', name: 'app-web-v1', service: 'app-web', cordDir: 'd', apiPort: 8080, timeout: 30 },
      plan: 'drain app-web-v1 from Traefik',
      label: 'drain app-web-v1 from Traefik',
    },
  ],
  'container-stop': [{ action: { kind: 'container-stop', containerId: 'c1', name: 'app-web-v1', timeout: 10 }, plan: 'stop app-web-v1 (timeout 10s)', label: 'stop app-web-v1' }],
  'container-remove': [
    { action: { kind: 'container-remove', containerId: 'c1', name: 'app-web-v1' }, plan: 'remove app-web-v1', label: 'remove container app-web-v1' },
    { action: { kind: 'container-remove', containerId: 'c1', name: 'app-web-v1', assetsDir: '.mrsk/assets/v1' }, plan: 'remove app-web-v1 and ~/.mrsk/assets/v1', label: 'remove container app-web-v1' },
  ],
  'image-remove': [{ action: { kind: 'image-remove', image: 'reg/app:v1' }, plan: 'remove image reg/app:v1', label: 'remove image reg/app:v1' }],
  'network-remove': [{ action: { kind: 'network-remove', network: 'mrsk' }, plan: 'remove network mrsk', label: 'remove network mrsk' }],
  'podman-service-start': [
    {
      action: { kind: 'podman-service-start', how: 'keeper' },
      plan: "start mrsk's Podman keeper: Podman's API service for Traefik, and the containers' health checks (no systemd here)",
      label: "start Podman's API service and health checks",
    },
    {
      action: { kind: 'podman-service-start', how: 'systemd' },
      plan: "enable Podman's API socket (systemctl enable --now podman.socket) for Traefik",
      label: "enable Podman's API socket",
    },
  ],
  'podman-service-stop': [{ action: { kind: 'podman-service-stop' }, plan: "stop mrsk's Podman keeper and Podman's API service", label: "stop Podman's API service" }],
  'traefik-wait-ready': [{ action: { kind: 'traefik-wait-ready', apiPort: 8080, timeout: 20 }, plan: 'wait until Traefik answers /ping (timeout 20s)', label: 'wait until Traefik answers' }],
  'state-remove': [
    { action: { kind: 'state-remove', dir: '.mrsk/app', keep: ['lock'] }, plan: 'remove ~/.mrsk/app (all but lock, which goes with the lock)', label: 'remove ~/.mrsk/app' },
  ],
  'registry-logout': [
    { action: { kind: 'registry-logout', server: 'reg.example.com' }, plan: 'log out of reg.example.com', label: 'log out of reg.example.com' },
    { action: { kind: 'registry-logout' }, plan: 'log out of Docker Hub', label: 'log out of Docker Hub' },
  ],
  'release-record': [{ action: { kind: 'release-record', version: COMMIT, specHashes: {} }, plan: `record release ${COMMIT}`, label: `record release ${SHORT}` }],
};

function stepOf(action: StepAction): PlanStep {
  return { id: 'h1/x', host: 'h1', address: 'h1/x', symbol: '+', actions: ['create'], cause: 'test', dependsOn: [], precondition: {}, batch: 0, action };
}

for (const [kind, cases] of Object.entries(CASES)) {
  test(`${kind}: the plan's description and the progress label`, () => {
    for (const { action, plan, label } of cases) {
      assert.equal(describeAction(action), plan);
      assert.equal(describeStep(stepOf(action)), label);
    }
  });
}

test('the plan keeps full versions (the plan view abbreviates its own lines); labels show 12 characters', () => {
  const action: StepAction = { kind: 'image-pull', image: `reg/app:${COMMIT}_uncommitted_0123456789abcdef` };
  assert.equal(describeAction(action), `pull reg/app:${COMMIT}_uncommitted_0123456789abcdef`);
  assert.equal(describeStep(stepOf(action)), `pull reg/app:${SHORT}_uncommitted_01234567`);
});
