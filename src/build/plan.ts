// Where and for which architectures the image builds, decided before anything runs (pure).
// Kamal 2's rules: builder.arch names the platforms; builder.remote builds the platforms this
// machine does not run (all of them with `local: false`), this machine builds its own; a
// builder.driver other than `docker` builds in a buildx builder instance created once. mrsk's
// difference: without builder.arch the platforms are those the target hosts report (the probe
// reads `uname -m`), not amd64+arm64, so nothing is built that no host runs.
import type { BuilderConfig } from '../config/types.ts';
import type { Argv } from '../runtime/argv.ts';
import * as docker from '../runtime/build.ts';
import { UsageError } from '../errors.ts';
import type { Snapshot } from '../probe/types.ts';

export type BuildStrategy = 'local' | 'remote' | 'hybrid';

/** What the planner needs to know. */
export interface BuildPlanInput {
  readonly builder: BuilderConfig;
  /** Architecture of each target host as the probe read it (undefined: not known). */
  readonly hostArches: Readonly<Record<string, string | undefined>>;
  /** This machine's architecture in docker's words (localArch()). */
  readonly localArch: string;
  /** Whether `docker buildx` is installed. */
  readonly buildx: boolean;
}

export interface BuildPlan {
  readonly platforms: readonly string[];
  /** Why these platforms, for the deploy output. */
  readonly platformsFrom: string;
  readonly strategy: BuildStrategy;
  /** Platforms built here and on builder.remote (hybrid: both non-empty). */
  readonly localPlatforms: readonly string[];
  readonly remotePlatforms: readonly string[];
  /** `docker buildx build --push` (true) or `docker build` + `docker push`. */
  readonly buildx: boolean;
  /** The buildx builder instance to build with; created by `create` when `docker buildx inspect` fails. */
  readonly builderName?: string;
  readonly create: readonly Argv[];
  /** One line for the deploy output: for which platforms, why, and where. */
  readonly summary: string;
}


/** Node's process.arch in docker's words. */
export function localArch(nodeArch: string = process.arch): string {
  const words: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return words[nodeArch] ?? nodeArch;
}

/** A builder-name-safe form of an endpoint: ssh://docker@build-1.example.com → docker-build-1-example-com. */
export function endpointSlug(endpoint: string): string {
  return endpoint.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase();
}

export function planBuild(input: BuildPlanInput): BuildPlan {
  const { builder } = input;
  const { platforms, platformsFrom } = choosePlatforms(input);
  const remote = builder.remote;
  let strategy: BuildStrategy = 'local';
  let localPlatforms = platforms;
  let remotePlatforms: readonly string[] = [];
  if (remote !== undefined) {
    if (builder.local === false) {
      strategy = 'remote';
      localPlatforms = [];
      remotePlatforms = platforms;
    } else {
      localPlatforms = platforms.filter((arch) => arch === input.localArch);
      remotePlatforms = platforms.filter((arch) => arch !== input.localArch);
      strategy = remotePlatforms.length === 0 ? 'local' : localPlatforms.length === 0 ? 'remote' : 'hybrid';
    }
  }

  // The daemon's own builder builds its own architecture; anything else needs buildx.
  const foreign = strategy === 'local' && platforms.some((arch) => arch !== input.localArch);
  const reasons = [
    ...docker.buildxOnlyKeys(builder),
    ...(platforms.length > 1 ? [`several platforms (${platforms.join(', ')})`] : []),
    ...(foreign ? [`a platform this machine does not run (${platforms.filter((a) => a !== input.localArch).join(', ')}; this machine: ${input.localArch})`] : []),
    ...(strategy === 'hybrid' ? ['a hybrid build (builder.remote for some platforms)'] : []),
  ];
  const buildx = reasons.length > 0;
  if (buildx && !input.buildx) {
    throw new UsageError(
      `this build needs \`docker buildx\`, which is not installed here: ${reasons.join('; ')}. Install the buildx plugin` +
        (foreign && builder.arch.length === 0 ? ', or set builder.remote to a machine of the hosts\' architecture' : '') +
        (builder.arch.length > 0 || builder.multiarch ? ', or remove builder.arch / builder.multiarch to build for the hosts\' architecture' : ''),
    );
  }

  const driver = builder.driver ?? 'docker-container';
  let builderName: string | undefined;
  const create: Argv[] = [];
  if (strategy === 'hybrid') {
    builderName = `mrsk-hybrid-${driver}-${endpointSlug(remote!)}`;
    create.push(docker.createHybridBuilder(builderName, driver, localPlatforms, builder.localHost), docker.appendToBuilder(builderName, driver, remotePlatforms, remote!));
  } else if (strategy === 'remote' && builder.driver !== undefined && builder.driver !== 'docker') {
    builderName = `mrsk-remote-${driver}-${endpointSlug(remote!)}`;
    create.push(docker.createRemoteBuilder(builderName, remote!, driver));
  } else if (strategy === 'local' && builder.driver !== undefined && builder.driver !== 'docker') {
    builderName = `mrsk-local-${driver}`;
    create.push(docker.createLocalBuilder(builderName, driver));
  }

  const where =
    strategy === 'hybrid'
      ? `${localPlatforms.join(', ')} on this machine, ${remotePlatforms.join(', ')} on builder.remote (${remote})`
      : strategy === 'remote'
        ? `on builder.remote (${remote})`
        : remote !== undefined
          ? `on this machine (builder.remote is only used for platforms this machine does not run; local: false builds everything there)`
          : 'on this machine';
  return {
    platforms,
    platformsFrom,
    strategy,
    localPlatforms,
    remotePlatforms,
    buildx,
    ...(builderName !== undefined ? { builderName } : {}),
    create,
    summary: `for ${platforms.join(', ')} (${platformsFrom}), ${where}`,
  };
}

export function choosePlatforms(input: BuildPlanInput): { platforms: readonly string[]; platformsFrom: string } {
  const { builder } = input;
  if (builder.arch.length > 0) return { platforms: [...new Set(builder.arch)], platformsFrom: 'builder.arch' };
  if (builder.multiarch) return { platforms: ['amd64', 'arm64'], platformsFrom: 'builder.multiarch' };
  const known = Object.entries(input.hostArches).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const arches = [...new Set(known.map(([, arch]) => arch))].sort();
  if (arches.length === 0) return { platforms: [input.localArch], platformsFrom: "this machine's: the hosts did not say theirs" };
  const unknown = Object.keys(input.hostArches).filter((host) => input.hostArches[host] === undefined);
  const from =
    arches.length === 1
      ? `the architecture ${known.length === 1 ? 'the host reports' : `all ${known.length} hosts report`}`
      : `the architectures the hosts report: ${known.map(([host, arch]) => `${host} ${arch}`).join(', ')}`;
  return { platforms: arches, platformsFrom: from + (unknown.length ? `; unknown for ${unknown.join(', ')}` : '') };
}

/** The architecture each host to deploy reported in the probe (undefined when unknown). */
export function hostArchesOf(snapshot: Snapshot, hosts: readonly string[]): Record<string, string | undefined> {
  const arches: Record<string, string | undefined> = {};
  for (const host of hosts) {
    const seen = snapshot.hosts[host];
    arches[host] = seen?.status === 'ok' ? seen.arch : undefined;
  }
  return arches;
}
