// Plan fixtures for the intents of day-two commands (src/plan/request.ts): each is a config, a
// version, a snapshot and the PlanRequest a command makes. Golden tests render them to
// fixtures/plans/intent-<name>.{txt,json}.
import type { Config } from '../../../src/config/types.ts';
import type { PlanRequest } from '../../../src/plan/request.ts';
import type { Snapshot } from '../../../src/probe/types.ts';
import { makeConfig } from './config.ts';
import { deployedSnapshot, observedImage } from './snapshot.ts';
import { editContainer, editHost } from './scenarios.ts';

export interface IntentScenario {
  readonly name: string;
  readonly title: string;
  readonly config: Config;
  readonly version: string;
  readonly snapshot: Snapshot;
  readonly request: PlanRequest;
  /** Plans again after the plan ran (simulated) are empty: false for intents that always act (reboot, restart). */
  readonly idempotent: boolean;
}

export const H1 = 'h1.example.com';
export const H2 = 'h2.example.com';

export function intentScenarios(): IntentScenario[] {
  const config = makeConfig();
  const v1 = deployedSnapshot(config, 'v1');
  const v2 = deployedSnapshot(config, 'v2', v1);
  // four versions deployed while five were retained; the config now keeps one
  const many = deployedSnapshot(config, 'v4', deployedSnapshot(config, 'v3', v2));
  const keepOne = makeConfig({ ...config, retainContainers: 1 });
  const alone = (snapshot: Snapshot, others: string[] = []): Snapshot =>
    editHost(editHost(snapshot, H1, (h) => ({ ...h, otherApps: others })), H2, (h) => ({ ...h, otherApps: others }));
  const stopped = (snapshot: Snapshot, name: string): Snapshot =>
    editContainer(snapshot, H1, name, (c) => {
      const { health: _health, ...rest } = c;
      return { ...rest, state: 'exited', exitCode: 0 };
    });
  const oldTraefik = makeConfig({ ...config, traefik: { ...config.traefik, image: 'traefik:v3.5' } });

  return [
    {
      name: 'redeploy-skips-traefik',
      title: 'redeploy (skip traefik) of a new version while Traefik differs: only the app changes',
      config: oldTraefik,
      version: 'v2',
      snapshot: v1,
      request: { skip: ['traefik'] },
      idempotent: false, // Traefik still differs afterwards: only a plain converge replaces it
    },
    {
      name: 'prune',
      title: 'prune with retain_containers 1 after four deploys: older stopped containers and their images go, the running ones stay',
      config: keepOne,
      version: 'v4',
      snapshot: editHost(many, H1, (h) => ({ ...h, images: [...h.images, observedImage('registry.example.com/acme/app:v0')] })),
      request: { mode: 'prune' },
      idempotent: true,
    },
    {
      name: 'prune-images',
      title: 'prune images: only images of the app no container uses (the retained versions keep theirs)',
      config: keepOne,
      version: 'v4',
      snapshot: editHost(many, H1, (h) => ({ ...h, images: [...h.images, observedImage('registry.example.com/acme/app:v0')] })),
      request: { mode: 'prune', prune: { containers: false, images: true } },
      idempotent: true,
    },
    {
      name: 'remove-alone',
      title: 'remove on hosts where no other app runs: containers, images, Traefik, network, login, state',
      config,
      version: 'v2',
      snapshot: alone(v2),
      request: { mode: 'destroy', target: 'app', registryLogout: { server: 'registry.example.com' } },
      idempotent: true,
    },
    {
      name: 'remove-shared',
      title: 'remove where another app runs: Traefik and the network stay for it',
      config,
      version: 'v2',
      snapshot: alone(v2, ['blog']),
      request: { mode: 'destroy', target: 'app' },
      idempotent: true,
    },
    {
      name: 'traefik-boot',
      title: 'traefik boot where Traefik is missing on h1: run it, wait until it answers and routes the app',
      config,
      version: 'v1',
      snapshot: editHost(v1, H1, (h) => ({ ...h, containers: h.containers.filter((c) => c.name !== 'traefik') })),
      request: { target: 'traefik' },
      idempotent: true,
    },
    {
      name: 'traefik-reboot',
      title: 'traefik reboot: replace stop-first one host after the other, each waited for',
      config,
      version: 'v1',
      snapshot: v1,
      request: { target: 'traefik', replace: [`${H1}/traefik`, `${H2}/traefik`], hostsInSeries: true },
      idempotent: false,
    },
    {
      name: 'traefik-stop',
      title: 'traefik stop: the running Traefik containers are stopped',
      config,
      version: 'v1',
      snapshot: v1,
      request: { mode: 'stop', target: 'traefik' },
      idempotent: true,
    },
    {
      name: 'traefik-start',
      title: 'traefik start: the stopped one on h1 is started and waited for',
      config,
      version: 'v1',
      snapshot: stopped(v1, 'traefik'),
      request: { mode: 'start', target: 'traefik' },
      idempotent: true,
    },
    {
      name: 'traefik-restart',
      title: 'traefik restart: stop and start host by host, waiting for each',
      config,
      version: 'v1',
      snapshot: v1,
      request: { mode: 'restart', target: 'traefik', hostsInSeries: true },
      idempotent: false,
    },
    {
      name: 'traefik-remove',
      title: 'traefik remove: container and image',
      config,
      version: 'v1',
      snapshot: v1,
      request: { mode: 'destroy', target: 'traefik' },
      idempotent: true,
    },
    {
      name: 'app-stop',
      title: 'app stop: web drained from Traefik then stopped, job stopped',
      config,
      version: 'v1',
      snapshot: v1,
      request: { mode: 'stop', target: 'app' },
      idempotent: true,
    },
    {
      name: 'app-start',
      title: 'app start after a stop on h1: started, waited healthy and routed',
      config,
      version: 'v1',
      snapshot: stopped(stopped(v1, 'app-web-v1'), 'app-job-v1'),
      request: { mode: 'start', target: 'app' },
      idempotent: true,
    },
    {
      name: 'app-start-missing',
      title: 'app start of a version with no container on the hosts: blocked, deploy makes it',
      config,
      version: 'v9',
      snapshot: v1,
      request: { mode: 'start', target: 'app' },
      idempotent: true,
    },
    {
      name: 'restore-release',
      title: 'restore-release of v1 with v2 serving: v1 retained, started again without a pull',
      config,
      version: 'v1',
      snapshot: v2,
      request: { mode: 'restore-release' },
      idempotent: true,
    },
    {
      name: 'restore-release-image-gone',
      title: 'restore-release of a version whose container and image are gone from h2: h2 blocked, never pulled',
      config,
      version: 'v1',
      snapshot: editHost(v2, H2, (h) => ({
        ...h,
        containers: h.containers.filter((c) => c.labels['mrsk.version'] !== 'v1'),
        images: h.images.filter((i) => !i.tags.some((t) => t.endsWith(':v1'))),
      })),
      request: { mode: 'restore-release' },
      idempotent: true,
    },
  ];
}
