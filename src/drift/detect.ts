// Snapshot + the release recorded on each host → drift findings. Pure. Each host is compared with
// the desired state at the version its own release record names (never a new version), so a
// config edited since that release is told apart from a host changed by hand: the first is
// `config-changed` (run `mrsk apply`), the second is drift that `--fix` restores. Accessories are
// compared with the config instead (the ledger keeps none), also on hosts that run only them.
import { describeBehind, hostsBehind } from './missed.ts';
import type { Config } from '../config/types.ts';
import { deriveDesired } from '../desired/desired.ts';
import { displayHostPath } from '../desired/paths.ts';
import { TRAEFIK_DYNAMIC_HOST_DIR } from '../desired/proxy-routing.ts';
import { ACCESSORY_LABEL, ROLE_LABEL, SPEC_HASH_LABEL, VERSION_LABEL } from '../model/labels.ts';
import { accessoriesByHost, type AccessorySpec } from '../desired/accessory.ts';
import type { ContainerSpec, Desired } from '../desired/types.ts';
import { accessorySpecCause, containerSpecCause, stateCause } from '../plan/causes.ts';
import { isNeverHealthy } from '../plan/never-healthy.ts';
import { inService, isAccessory, isManagedTraefik, isMrskMade, isOwnedBy, newestFirst } from '../probe/observed.ts';
import type { ObservedContainer, ReachableHost, ReleaseRecord, Snapshot } from '../probe/types.ts';
import type { DriftFinding, DriftReport, HostDrift } from './types.ts';

/** Which hosts and roles to compare (`--hosts`, `--roles`); roles undefined = all. */
export interface DriftScope {
  readonly hosts: readonly string[];
  readonly roles?: readonly string[];
}

/** What to tell a user whose config changed since the last release. */
export const CONFIG_CHANGED_HINT = 'config changed since the last release; run mrsk apply';

/**
 * Labels that differ between a container and its spec, in words. Labels Docker copied from the
 * image are not differences; when the image's labels are unknown only mrsk.* and traefik.* extras count.
 */
export function labelDifferences(
  container: ObservedContainer,
  spec: ContainerSpec,
  imageLabels: Readonly<Record<string, string>> | undefined,
): string[] {
  const words: string[] = [];
  const actual = container.labels;
  for (const [key, value] of Object.entries(spec.labels)) {
    if (key === SPEC_HASH_LABEL) continue; // compared on its own
    if (!(key in actual)) words.push(`label ${key} removed`);
    else if (actual[key] !== value) words.push(`label ${key} changed`);
  }
  for (const [key, value] of Object.entries(actual)) {
    if (key in spec.labels) continue;
    const fromImage = imageLabels ? imageLabels[key] === value : !/^(mrsk|traefik)\./.test(key);
    if (!fromImage) words.push(`label ${key} added`);
  }
  return words.sort();
}

function imageLabelsOf(host: ReachableHost, reference: string): Readonly<Record<string, string>> | undefined {
  return host.images.find((image) => image.tags.includes(reference))?.labels;
}

function notRunningCause(container: ObservedContainer): { kind: 'container-stopped' | 'container-unhealthy'; cause: string } {
  if (container.state === 'restarting') return { kind: 'container-unhealthy', cause: `container restarting (crash loop, ${container.restartCount} restarts)` };
  if (container.state === 'paused') return { kind: 'container-unhealthy', cause: 'container paused' };
  return { kind: 'container-stopped', cause: stateCause(container) };
}

/** Compares one reachable host with the release recorded on it. */
function checkHost(config: Config, host: ReachableHost, record: ReleaseRecord, desiredState: Desired, roles: ReadonlySet<string> | undefined): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const add = (finding: Omit<DriftFinding, 'host'>): void => {
    findings.push({ host: host.host, ...finding });
  };
  const { service, destination } = config;
  const wanted = desiredState.hosts[host.host];
  if (!wanted) {
    add({ kind: 'config-changed', cause: `the host is no longer in the config (release ${record.version} is recorded on it)`, fixable: false, hint: CONFIG_CHANGED_HINT });
    return findings;
  }
  const owned = host.containers.filter((c) => c.state !== 'removing' && isOwnedBy(c, service, destination) && !isAccessory(c));
  const specs = wanted.containers.filter((spec) => !roles || roles.has(spec.role));
  const releaseNames = new Set(specs.map((spec) => spec.name));

  if (specs.length > 0 && !host.networks.includes(wanted.network)) {
    add({ kind: 'network-missing', cause: `docker network ${wanted.network} missing`, fixable: true });
  }

  for (const spec of specs) {
    const recordedHash = record.specHashes[spec.role];
    const configSame = recordedHash === spec.specHash;
    const current = owned.find((c) => c.name === spec.name);
    if (!recordedHash) {
      add({ kind: 'config-changed', role: spec.role, cause: `role ${spec.role} is not in release ${record.id}: added to this host since`, fixable: false, hint: CONFIG_CHANGED_HINT });
    } else if (!configSame) {
      // Name what changed when the release container is there to compare with.
      const detail = current && current.labels[SPEC_HASH_LABEL] === recordedHash ? containerSpecCause(current, spec.labels, spec.specHash).cause : 'spec changed';
      add({ kind: 'config-changed', role: spec.role, container: spec.name, cause: `role ${spec.role}: ${detail}`, fixable: false, hint: CONFIG_CHANGED_HINT });
    }
    const unfixableHint = configSame ? undefined : CONFIG_CHANGED_HINT;
    if (!current) {
      add({
        kind: 'container-missing',
        role: spec.role,
        container: spec.name,
        cause: `container ${spec.name} of release ${record.version} is missing`,
        fixable: configSame,
        ...(unfixableHint ? { hint: unfixableHint } : {}),
      });
      continue;
    }
    const base = { role: spec.role, container: current.name, containerId: current.id };
    const observedHash = current.labels[SPEC_HASH_LABEL];
    if (recordedHash && observedHash !== recordedHash) {
      add({
        ...base,
        kind: 'spec-differs',
        cause: `spec-hash ${observedHash ? `${observedHash.slice(0, 15)}…` : 'missing'} is not the one release ${record.version} applied (recreated by hand?)`,
        fixable: configSame,
        ...(unfixableHint ? { hint: unfixableHint } : {}),
      });
    } else if (configSame) {
      // Same hash label, yet recreated by hand with other labels or another image.
      const differences = labelDifferences(current, spec, imageLabelsOf(host, current.image));
      if (current.image !== spec.image) differences.unshift(`image ${current.image} instead of ${spec.image}`);
      if (differences.length > 0) add({ ...base, kind: 'spec-differs', cause: `${differences.join(', ')} (edited by hand)`, fixable: true });
    }
    if (current.state !== 'running') {
      const { kind, cause } = notRunningCause(current);
      const fixable = kind === 'container-stopped' && configSame;
      add({ ...base, kind, cause, fixable, ...(fixable ? {} : { hint: unfixableHint ?? `mrsk does not restart it blindly: see \`${host.runtime} logs ${current.name}\` on the host` }) });
    } else if (current.health === 'unhealthy') {
      add({ ...base, kind: 'container-unhealthy', cause: 'container unhealthy', fixable: false, hint: `see \`${host.runtime} logs ${current.name}\` on the host; a new release replaces it` });
    }
  }

  const specRoles = new Set(specs.map((spec) => spec.role));
  const configRoles = new Set(wanted.containers.map((spec) => spec.role));
  const reportedRemovedRoles = new Set<string>();
  const retained = new Map<string, ObservedContainer[]>();
  for (const container of owned) {
    // Kept for inspection after a failed deploy; apply prunes it (never-healthy.ts), it is no drift.
    if (releaseNames.has(container.name) || isNeverHealthy(container)) continue;
    const role = container.labels[ROLE_LABEL] ?? '';
    if (roles && !roles.has(role)) continue;
    const version = container.labels[VERSION_LABEL];
    const base = { ...(role ? { role } : {}), container: container.name, containerId: container.id };
    if (!isMrskMade(container, service, destination)) {
      add({ ...base, kind: 'stray-container', cause: `container ${container.name} carries this service's labels but was not created by mrsk (${container.state})`, fixable: true });
      continue;
    }
    if (role in record.specHashes && !configRoles.has(role)) {
      // The release had this role here; the config dropped it since. apply removes it, not drift.
      if (inService(container) && !reportedRemovedRoles.has(role)) {
        reportedRemovedRoles.add(role);
        add({ ...base, kind: 'config-changed', cause: `role ${role} was removed from this host in the config`, fixable: false, hint: CONFIG_CHANGED_HINT });
      }
      continue;
    }
    if (inService(container)) {
      const beside = specRoles.has(role) ? ` beside release ${record.version}` : ` (role ${role} is not in release ${record.version})`;
      add({ ...base, kind: 'old-version-running', cause: `version ${version} is running${beside}`, fixable: true });
      continue;
    }
    retained.set(role, [...(retained.get(role) ?? []), container]);
  }

  for (const [role, containers] of [...retained.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...containers].sort(newestFirst);
    // The newest retained version is the rollback target: drift never counts it as excess.
    const excess = sorted.slice(Math.max(wanted.retainContainers, 1));
    if (excess.length === 0) continue;
    add({
      role,
      kind: 'retention-exceeded',
      cause: `${sorted.length} stopped versions of role ${role || '(none)'} kept, more than retain_containers ${wanted.retainContainers} (${excess.map((c) => c.labels[VERSION_LABEL]).join(', ')} to prune)`,
      fixable: true,
      excessContainerIds: excess.map((c) => c.id).reverse(),
    });
  }

  const traefikSpec = wanted.traefik && specs.some((spec) => spec.proxied) ? wanted.traefik : undefined;
  if (traefikSpec) {
    const recordedHash = record.traefikSpecHash;
    const configSame = recordedHash === traefikSpec.specHash;
    const unfixable = configSame ? {} : { hint: CONFIG_CHANGED_HINT };
    if (!configSame) add({ kind: 'config-changed', container: traefikSpec.name, cause: recordedHash ? 'Traefik settings changed since the release' : `Traefik is not in release ${record.id}`, fixable: false, hint: CONFIG_CHANGED_HINT });
    const squatter = host.containers.find((c) => c.name === traefikSpec.name && !isManagedTraefik(c));
    const traefik = host.containers.find((c) => isManagedTraefik(c) && c.state !== 'removing');
    if (squatter) {
      add({ kind: 'traefik-spec-differs', container: squatter.name, containerId: squatter.id, cause: `a container named ${squatter.name} runs that mrsk does not manage (no mrsk.traefik=true label)`, fixable: false, hint: 'remove or rename it by hand' });
    } else if (!traefik) {
      add({ kind: 'traefik-missing', container: traefikSpec.name, cause: 'Traefik container missing', fixable: configSame, ...unfixable });
    } else {
      const base = { container: traefik.name, containerId: traefik.id };
      if (recordedHash && traefik.labels[SPEC_HASH_LABEL] !== recordedHash) {
        add({ ...base, kind: 'traefik-spec-differs', cause: 'Traefik runs with another spec than the release applied (recreated by hand?)', fixable: configSame, ...unfixable });
      } else if (!inService(traefik)) {
        add({ ...base, kind: 'traefik-stopped', cause: stateCause(traefik, 'Traefik'), fixable: configSame, ...unfixable });
      }
    }
  }
  // The app's own Traefik file, known by the hash on its first line. The ledger does not record
  // it, so any file other than the config's is drift that --fix rewrites from the config.
  const file = wanted.traefikFile && specs.some((spec) => spec.proxied) ? wanted.traefikFile : undefined;
  if (file && host.traefikFileHash !== file.hash) {
    const path = displayHostPath(`${TRAEFIK_DYNAMIC_HOST_DIR}/${file.name}`);
    add(
      host.traefikFileHash === undefined
        ? { kind: 'traefik-file-missing', cause: `Traefik file ${path} missing`, fixable: true }
        : { kind: 'traefik-file-differs', cause: `Traefik file ${path} differs from the config (edited by hand, or its certificate or response_timeout changed)`, fixable: true },
    );
  }
  return findings;
}

/**
 * The accessories of one host compared with the config (not with the release: the ledger keeps
 * none). Only what `--fix` may do is fixable, as the planner's converge does it: a missing one is
 * created and a stopped one started; a changed one keeps running as it is (its replacement stops a
 * database: `mrsk accessory reboot`), and one the config no longer has on this host is never
 * removed by mrsk on its own (its container or folders may hold the only copy of some data).
 */
function checkAccessories(config: Config, host: ReachableHost, specs: readonly AccessorySpec[]): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const add = (finding: Omit<DriftFinding, 'host'>): void => {
    findings.push({ host: host.host, ...finding });
  };
  const mine = host.containers.filter((c) => c.state !== 'removing' && isOwnedBy(c, config.service, config.destination) && isAccessory(c));
  for (const spec of specs) {
    // the planner's choice (diff.ts #accessoryContainer): the one under its name, else the newest labelled with it
    const labelled = mine.filter((c) => c.labels[ACCESSORY_LABEL] === spec.name);
    const current = labelled.find((c) => c.name === spec.containerName) ?? [...labelled].sort(newestFirst)[0];
    const subject = { accessory: spec.name, container: current?.name ?? spec.containerName };
    if (!current) {
      add({ ...subject, kind: 'accessory-missing', cause: `container ${spec.containerName} missing`, fixable: true });
      continue;
    }
    const base = { ...subject, containerId: current.id };
    if (current.labels[SPEC_HASH_LABEL] !== spec.specHash) {
      add({
        ...base,
        kind: 'accessory-changed',
        cause: `runs another spec than the config: ${accessorySpecCause(current, spec)}`,
        fixable: false,
        hint: `\`mrsk accessory reboot ${spec.name}\` replaces it (its data folders stay)`,
      });
    }
    if (current.state === 'restarting' || current.state === 'paused') {
      const cause = current.state === 'restarting' ? `container ${current.name} restarting (crash loop, ${current.restartCount} restarts)` : `container ${current.name} paused`;
      add({ ...base, kind: 'accessory-unhealthy', cause, fixable: false, hint: `see \`${host.runtime} logs ${current.name}\` on the host` });
    } else if (!inService(current)) {
      add({ ...base, kind: 'accessory-stopped', cause: stateCause(current, `container ${current.name}`), fixable: true });
    } else if (current.health === 'unhealthy') {
      add({ ...base, kind: 'accessory-unhealthy', cause: `container ${current.name} unhealthy`, fixable: false, hint: `see \`${host.runtime} logs ${current.name}\` on the host; \`mrsk accessory restart ${spec.name}\` restarts it` });
    }
  }
  const configured = new Set(specs.map((spec) => spec.name));
  const elsewhere = new Map(config.accessories.map((accessory) => [accessory.name, accessory.hosts]));
  for (const container of mine) {
    const name = container.labels[ACCESSORY_LABEL]!;
    if (configured.has(name)) continue;
    const on = elsewhere.get(name);
    const why = on ? `the config runs accessory ${name} on ${on.join(', ')}, no longer on this host` : `the config no longer has accessory ${name}`;
    add({
      accessory: name,
      container: container.name,
      containerId: container.id,
      kind: 'accessory-stray',
      cause: `container ${container.name} (${container.state}): ${why}`,
      fixable: false,
      hint: `it may hold data, so mrsk never removes it on its own: once its data is safe, \`${host.runtime} rm -f ${container.name}\` on the host (or put it back in the config)`,
    });
  }
  return findings;
}

/** App containers on a host the config puts in no role, which records no release: only `mrsk apply` takes them off. */
function appOnAccessoryHost(config: Config, host: ReachableHost): DriftFinding[] {
  const app = host.containers.filter((c) => c.state !== 'removing' && isOwnedBy(c, config.service, config.destination) && !isAccessory(c) && inService(c));
  if (app.length === 0) return [];
  const roles = [...new Set(app.map((c) => c.labels[ROLE_LABEL] ?? '(none)'))].sort();
  return [{ host: host.host, kind: 'config-changed', cause: `containers of role ${roles.join(', ')} run on this host, which the config puts in no role`, fixable: false, hint: CONFIG_CHANGED_HINT }];
}

/**
 * Compares every host in scope with the release recorded on it and reports each difference with
 * its cause. Hosts that could not be probed are reported as errors; the others are still checked.
 */
export function detectDrift(config: Config, snapshot: Snapshot, scope: DriftScope): DriftReport {
  const roles = scope.roles ? new Set(scope.roles) : undefined;
  const desiredByVersion = new Map<string, Desired>();
  const desiredAt = (version: string): Desired => {
    let state = desiredByVersion.get(version);
    if (!state) desiredByVersion.set(version, (state = deriveDesired(config, version)));
    return state;
  };
  const behind = hostsBehind(snapshot);
  const accessories = accessoriesByHost(config);
  const roleHosts = new Set(config.hosts);
  const hosts: HostDrift[] = scope.hosts.map((name): HostDrift => {
    const drift = checkOne(name);
    const missed = behind.get(name);
    if (!missed) return drift;
    if (drift.status !== 'checked') return { ...drift, message: `${drift.message}; ${describeBehind(missed)}` };
    const finding: DriftFinding = { host: name, kind: 'behind', cause: describeBehind(missed), fixable: false, hint: 'mrsk deploy (or mrsk apply) deploys the fleet\'s release to it' };
    return { ...drift, findings: [finding, ...drift.findings] };
  });
  function checkOne(name: string): HostDrift {
    const observed = snapshot.hosts[name];
    if (!observed) return { host: name, status: 'error', problem: 'error', message: 'the host was not probed' };
    if (observed.status !== 'ok') return { host: name, status: 'error', problem: observed.status, message: observed.message };
    const record = observed.release;
    const accessoryFindings = checkAccessories(config, observed, accessories.get(name) ?? []);
    // A host in no role runs only accessories and never records a release: none is expected.
    const accessoryOnly = !roleHosts.has(name) && accessories.has(name);
    if (!record && accessoryOnly) return { host: name, status: 'checked', accessoriesOnly: true, findings: [...appOnAccessoryHost(config, observed), ...accessoryFindings] };
    if (!record) {
      // a record that is there but cannot be read (garbage on the host) is drift too, with its own words
      const unreadable = observed.warnings?.find((warning) => warning.kind === 'release-unreadable');
      return {
        host: name,
        status: 'checked',
        findings: [
          unreadable
            ? { host: name, kind: 'no-release', cause: unreadable.message, fixable: false, hint: 'mrsk apply (or mrsk deploy) records the release again' }
            : { host: name, kind: 'no-release', cause: 'no release recorded on this host', fixable: false, hint: 'deploy first (mrsk deploy or mrsk apply); drift compares with the last applied release' },
          ...accessoryFindings,
        ],
      };
    }
    return {
      host: name,
      status: 'checked',
      release: { id: record.id, version: record.version, appliedAt: record.appliedAt, appliedBy: record.appliedBy },
      findings: [...checkHost(config, observed, record, desiredAt(record.version), roles), ...accessoryFindings],
    };
  }
  const checked = hosts.filter((h): h is Extract<HostDrift, { status: 'checked' }> => h.status === 'checked');
  const all = checked.flatMap((h) => h.findings);
  return {
    formatVersion: '1',
    service: config.service,
    ...(config.destination ? { destination: config.destination } : {}),
    takenAt: snapshot.takenAt,
    hosts,
    summary: {
      hostsChecked: checked.length,
      hostsWithDrift: checked.filter((h) => h.findings.length > 0).length,
      hostsInError: hosts.length - checked.length,
      findings: all.length,
      fixable: all.filter((f) => f.fixable).length,
    },
  };
}

/** Every finding of the report, host by host. */
export function allFindings(report: DriftReport): DriftFinding[] {
  return report.hosts.flatMap((h) => (h.status === 'checked' ? h.findings : []));
}

/** The exit code of a drift run: 1 when a host could not be checked, else 2 on any finding, else 0. */
export function driftExitCode(report: DriftReport): 0 | 1 | 2 {
  if (report.summary.hostsInError > 0) return 1;
  return report.summary.findings > 0 ? 2 : 0;
}
