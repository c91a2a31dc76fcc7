// A release's desired state, kept in the ledger and brought back by rollback. Pure.
//
// The release-record step writes, per host, what that host was asked to run (RecordedHostDesired):
// every container spec and the Traefik spec, *without secret values*: a secret is kept as its
// name and the short per-project HMAC the `mrsk.spec-parts` label already carries
// (spec-hash.ts), so the ledger says whether a secret changed, never what it was.
//
// desiredFromRelease() turns those records back into a Desired:
// - Containers are the release's (image, cmd, clear env, labels, options, volumes, roles, …);
//   secret values are today's (the ledger never had them). A secret whose value differs from the
//   release's is named in a note; its container is then replaced rather than started again, since
//   its spec hash differs from the retained one's.
// - Roles are the release's: a role the config dropped since comes back, a role the release did
//   not run is taken off the host (the plan shows both; notes name them).
// - Traefik stays as the config has it unless asked to restore the release's: it is shared by
//   every app on the host, and replacing it is stop-first (HTTP fails for a few seconds).
// - Hosts, batches and timeouts are the config's: a rollback changes what runs, not where or how
//   fast it rolls out.
// - Accessories are the config's: they are not versioned with the app, the ledger keeps none, and
//   a host that runs only accessories has no release at all (no note for it).
// - A host without a record of the release, or whose record predates this (no desired state) or
//   cannot be read, gets the config's containers at the release's version, and a note says so.
import type { Config } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { ReleaseRecord } from '../probe/types.ts';
import type { Secret } from '../secret.ts';
import { SPEC_HASH_LABEL, SPEC_PARTS_LABEL } from '../model/labels.ts';
import { containerName, cordDirFor } from '../model/names.ts';
import { deriveDesired, roleEnvOn, traefikSpecFor } from './desired.ts';
import { containerSpecParts, finishContainerSpec, finishTraefikSpec } from './spec-hash.ts';
import type { AssetsMount, ContainerSpec, Desired, DesiredHost, HealthcheckSpec, TraefikSpec } from './types.ts';

/** The version of RecordedHostDesired's shape; a record of another format is not restored. */
export const RECORDED_DESIRED_FORMAT = 1;

/** One container of a release as the ledger keeps it: its spec with secrets as names and digests. */
export interface RecordedContainer {
  readonly name: string;
  readonly service: string;
  readonly role: string;
  readonly destination?: string;
  readonly version: string;
  readonly image: string;
  readonly cmd?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Secret env name → the first 16 hex digits of its value's HMAC (as in mrsk.spec-parts). Never a value. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly volumes: readonly string[];
  /** Labels without the derived mrsk.spec-hash and mrsk.spec-parts (recomputed on restore). */
  readonly labels: Readonly<Record<string, string>>;
  readonly healthcheck?: HealthcheckSpec;
  readonly logging: { readonly driver?: string; readonly options: Readonly<Record<string, string>> };
  readonly options: readonly string[];
  readonly network: string;
  readonly proxied: boolean;
  readonly traefikService?: string;
  readonly assets?: AssetsMount;
  readonly stopTimeout?: number;
  /** The spec hash the container had. */
  readonly specHash: string;
}

/** The Traefik of a release: its spec without the derived labels. */
export type RecordedTraefik = Omit<TraefikSpec, 'labels'> & { readonly labels: Readonly<Record<string, string>> };

/** What one host was asked to run by a release (ReleaseRecord.desired). */
export interface RecordedHostDesired {
  readonly format: typeof RECORDED_DESIRED_FORMAT;
  /** The host's containers, primary role first. */
  readonly containers: readonly RecordedContainer[];
  readonly traefik?: RecordedTraefik;
}

function withoutDerived(labels: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) if (key !== SPEC_HASH_LABEL && key !== SPEC_PARTS_LABEL) kept[key] = value;
  return kept;
}

/** A container spec as the ledger keeps it. Fields are listed one by one: nothing reaches the ledger by accident. */
export function recordContainer(spec: ContainerSpec): RecordedContainer {
  return {
    name: spec.name,
    service: spec.service,
    role: spec.role,
    ...(spec.destination !== undefined ? { destination: spec.destination } : {}),
    version: spec.version,
    image: spec.image,
    ...(spec.cmd !== undefined ? { cmd: [...spec.cmd] } : {}),
    env: { ...spec.env },
    // the digests of the parts label, computed from the values; the values themselves stay here
    secrets: containerSpecParts(spec).secrets,
    volumes: [...spec.volumes],
    labels: withoutDerived(spec.labels),
    ...(spec.healthcheck !== undefined ? { healthcheck: { ...spec.healthcheck } } : {}),
    logging: { ...(spec.logging.driver !== undefined ? { driver: spec.logging.driver } : {}), options: { ...spec.logging.options } },
    options: [...spec.options],
    network: spec.network,
    proxied: spec.proxied,
    ...(spec.traefikService !== undefined ? { traefikService: spec.traefikService } : {}),
    ...(spec.assets !== undefined ? { assets: { ...spec.assets } } : {}),
    ...(spec.stopTimeout !== undefined ? { stopTimeout: spec.stopTimeout } : {}),
    specHash: spec.specHash,
  };
}

/** A Traefik spec as the ledger keeps it. */
export function recordTraefik(spec: TraefikSpec): RecordedTraefik {
  return {
    name: spec.name,
    image: spec.image,
    args: [...spec.args],
    ports: [...spec.ports],
    volumes: [...spec.volumes],
    labels: withoutDerived(spec.labels),
    ...(spec.env !== undefined ? { env: { ...spec.env } } : {}),
    options: [...spec.options],
    network: spec.network,
    apiPort: spec.apiPort,
    specHash: spec.specHash,
  };
}

/**
 * The `desired` of the release record a plan writes on one host. Like the record's specHashes, a
 * role the plan leaves out (`--roles`) keeps what the previous record says of it (and is left out
 * when that record has nothing readable), and so does Traefik when no routed role is planned.
 */
export function recordHostDesired(
  wanted: DesiredHost,
  scope: { readonly roles: ReadonlySet<string>; readonly traefik: boolean },
  previous?: unknown,
): RecordedHostDesired {
  const before = parseRecordedDesired(previous);
  const containers: RecordedContainer[] = [];
  for (const spec of wanted.containers) {
    const recorded = scope.roles.has(spec.role) ? recordContainer(spec) : before?.containers.find((c) => c.role === spec.role);
    if (recorded) containers.push(recorded);
  }
  const traefik = scope.traefik ? (wanted.traefik ? recordTraefik(wanted.traefik) : undefined) : before?.traefik;
  return { format: RECORDED_DESIRED_FORMAT, containers, ...(traefik ? { traefik } : {}) };
}

// ---- reading a record back: it comes from a host, so every field is checked ----

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isStringMap = (value: unknown): value is Record<string, string> => isObject(value) && Object.values(value).every(isString);
const optional = (value: unknown, check: (v: unknown) => boolean): boolean => value === undefined || check(value);

function isHealthcheck(value: unknown): value is HealthcheckSpec {
  return isObject(value) && isString(value.cmd) && isNumber(value.interval) && isNumber(value.timeout) && isNumber(value.retries) && isNumber(value.startPeriod);
}

function isContainer(value: unknown): value is RecordedContainer {
  if (!isObject(value)) return false;
  const v = value;
  return (
    isString(v.name) && isString(v.service) && isString(v.role) && optional(v.destination, isString) && isString(v.version) && isString(v.image) &&
    optional(v.cmd, isStrings) && isStringMap(v.env) && isStringMap(v.secrets) && isStrings(v.volumes) && isStringMap(v.labels) &&
    optional(v.healthcheck, isHealthcheck) &&
    isObject(v.logging) && optional(v.logging.driver, isString) && isStringMap(v.logging.options) &&
    isStrings(v.options) && isString(v.network) && typeof v.proxied === 'boolean' && optional(v.traefikService, isString) &&
    optional(v.assets, (a) => isObject(a) && isString(a.path) && isString(a.hostDir)) &&
    optional(v.stopTimeout, isNumber) && isString(v.specHash)
  );
}

function isTraefik(value: unknown): value is RecordedTraefik {
  if (!isObject(value)) return false;
  const v = value;
  return (
    isString(v.name) && isString(v.image) && isStrings(v.args) && isStrings(v.ports) && isStrings(v.volumes) && isStringMap(v.labels) &&
    optional(v.env, isStringMap) && isStrings(v.options) && isString(v.network) && isNumber(v.apiPort) && isString(v.specHash)
  );
}

/** A record's `desired`, or undefined when absent (an older mrsk), of another format or not well formed. */
export function parseRecordedDesired(value: unknown): RecordedHostDesired | undefined {
  if (!isObject(value) || value.format !== RECORDED_DESIRED_FORMAT) return undefined;
  if (!Array.isArray(value.containers) || !value.containers.every(isContainer)) return undefined;
  if (!optional(value.traefik, isTraefik)) return undefined;
  return value as unknown as RecordedHostDesired;
}

// ---- choosing each host's record ----

/**
 * Each host's record of the release to restore, from every host's ledger (newest first or not).
 * With a release id: the record with that id, else (the run wrote each host's record a little
 * later than the last) the record of the same version applied closest in time to the one found.
 * With a version only: the newest record of that version. A host without one maps to undefined.
 */
export function releaseOnEachHost(
  ledgers: Readonly<Record<string, readonly ReleaseRecord[]>>,
  target: { readonly version: string; readonly anchor?: ReleaseRecord },
): Record<string, ReleaseRecord | undefined> {
  const chosen: Record<string, ReleaseRecord | undefined> = {};
  const time = (record: ReleaseRecord) => Date.parse(record.appliedAt);
  for (const [host, releases] of Object.entries(ledgers)) {
    const { anchor } = target;
    const ofVersion = releases.filter((r) => r.version === target.version);
    const exact = anchor ? ofVersion.find((r) => r.id === anchor.id) : undefined;
    const ranked = [...ofVersion].sort((a, b) =>
      anchor
        ? Math.abs(time(a) - time(anchor)) - Math.abs(time(b) - time(anchor)) || a.id.localeCompare(b.id)
        : b.appliedAt.localeCompare(a.appliedAt) || b.id.localeCompare(a.id),
    );
    chosen[host] = exact ?? ranked[0];
  }
  return chosen;
}

// ---- restoring ----

/** What a restore did differently from the release or the config, for the person rolling back. */
export type ReleaseNote =
  /** Hosts with no record of the release: they get the config's containers at its version. */
  | { readonly kind: 'not-recorded'; readonly hosts: readonly string[] }
  /** Hosts whose record keeps no desired state (written by an older mrsk) or cannot be read. */
  | { readonly kind: 'config-not-restored'; readonly hosts: readonly string[] }
  /** A secret whose value today differs from the release's; today's is used. */
  | { readonly kind: 'secret-changed'; readonly name: string; readonly hosts: readonly string[] }
  /** A role the release ran that the config no longer has there: it runs again. */
  | { readonly kind: 'role-restored'; readonly role: string; readonly hosts: readonly string[] }
  /** A role the config has there that the release did not run: it is taken off. */
  | { readonly kind: 'role-not-in-release'; readonly role: string; readonly hosts: readonly string[] }
  /** The release's Traefik differs from the config's: kept as the config has it. */
  | { readonly kind: 'traefik-kept'; readonly hosts: readonly string[] }
  /** The release's Traefik differs from the config's and is restored (stop-first). */
  | { readonly kind: 'traefik-restored'; readonly hosts: readonly string[] };

export interface FromReleaseInput {
  readonly config: Config;
  readonly version: string;
  /** Each host's record of the release (releaseOnEachHost); a host missing or undefined has none. */
  readonly releases: Readonly<Record<string, ReleaseRecord | undefined>>;
  /** `keep` (default): Traefik as the config has it; `restore`: the release's. */
  readonly traefik?: 'keep' | 'restore';
}

export interface FromReleaseResult {
  readonly desired: Desired;
  readonly notes: readonly ReleaseNote[];
}

/** Today's value of a secret a release's container had: the role's on that host, else any role's, else any secret of that name. */
function currentSecret(config: Config, role: string, host: string, name: string): Secret | undefined {
  const sameRole = config.roles.find((r) => r.name === role);
  const roles = sameRole ? [sameRole, ...config.roles.filter((r) => r !== sameRole)] : config.roles;
  for (const r of roles) {
    const found = roleEnvOn(config, r, host).secret[name];
    if (found) return found;
  }
  return config.secrets.find((secret) => secret.name === name);
}

/** The spec of a recorded container with today's secret values (the hash then says whether one changed). */
export function restoreContainer(recorded: RecordedContainer, secretEnv: Readonly<Record<string, Secret>>): ContainerSpec {
  const { secrets: _digests, specHash: _recordedHash, stopTimeout, ...rest } = recorded;
  // stop timeout is not hashed (desired.ts adds it after the hash), and the cord folder is named after the hash
  const spec = finishContainerSpec({ ...rest, secretEnv: { ...secretEnv } });
  const finished = stopTimeout !== undefined ? { ...spec, stopTimeout } : spec;
  return spec.proxied ? { ...finished, cordDir: cordDirFor(spec.service, spec.name, spec.destination, spec.specHash) } : finished;
}

/** The Traefik spec of a recorded one. */
export function restoreTraefik(recorded: RecordedTraefik): TraefikSpec {
  const { specHash: _recordedHash, ...rest } = recorded;
  return finishTraefikSpec(rest);
}

/** Why a recorded host state cannot be this release's on this config: it names other containers. */
function foreignContainer(config: Config, version: string, recorded: RecordedHostDesired): boolean {
  const roles = new Set<string>();
  for (const c of recorded.containers) {
    if (c.service !== config.service || (c.destination ?? '') !== (config.destination ?? '') || c.version !== version) return true;
    if (c.name !== containerName(config.service, c.role, version, config.destination) || roles.has(c.role)) return true;
    roles.add(c.role);
  }
  return false;
}

/** A note before its hosts are known. */
type NoteOnHost = ReleaseNote extends infer N ? (N extends ReleaseNote ? Omit<N, 'hosts'> : never) : never;

/** Gathers the same note from many hosts into one, in the order first seen. */
class NoteBook {
  readonly #byKey = new Map<string, { note: NoteOnHost; hosts: string[] }>();
  add(note: NoteOnHost, host: string): void {
    const key = JSON.stringify(note);
    const entry = this.#byKey.get(key) ?? { note, hosts: [] };
    if (!entry.hosts.includes(host)) entry.hosts.push(host);
    this.#byKey.set(key, entry);
  }
  notes(): ReleaseNote[] {
    return [...this.#byKey.values()].map(({ note, hosts }) => ({ ...note, hosts }) as ReleaseNote);
  }
}

/**
 * The desired state that brings back what a release ran (see the top of this file). Throws a
 * ConfigError naming every secret a restored container needs that the config no longer has.
 */
export function desiredFromRelease(input: FromReleaseInput): FromReleaseResult {
  const { config, version } = input;
  const base = deriveDesired(config, version);
  const configTraefik = traefikSpecFor(config);
  const book = new NoteBook();
  const missing = new Map<string, string[]>();
  const hosts: Record<string, DesiredHost> = {};

  for (const [host, fromConfig] of Object.entries(base.hosts)) {
    const record = input.releases[host];
    // A host that runs only accessories never records a release (nothing of the app runs there):
    // its desired state is the config's, and no note says a release is missing.
    if (!record && fromConfig.containers.length === 0) {
      hosts[host] = fromConfig;
      continue;
    }
    if (!record || record.version !== version) {
      book.add({ kind: 'not-recorded' }, host);
      hosts[host] = fromConfig;
      continue;
    }
    const recorded = parseRecordedDesired(record.desired);
    if (!recorded || foreignContainer(config, version, recorded)) {
      book.add({ kind: 'config-not-restored' }, host);
      hosts[host] = fromConfig;
      continue;
    }

    const containers = recorded.containers.map((c) => {
      const secretEnv: Record<string, Secret> = {};
      for (const name of Object.keys(c.secrets)) {
        const secret = currentSecret(config, c.role, host, name);
        if (secret) secretEnv[name] = secret;
        else missing.set(name, [...(missing.get(name) ?? []), `${c.role} on ${host}`]);
      }
      const spec = restoreContainer(c, secretEnv);
      const today = containerSpecParts(spec).secrets;
      for (const [name, digest] of Object.entries(c.secrets)) {
        if (name in today && today[name] !== digest) book.add({ kind: 'secret-changed', name }, host);
      }
      return spec;
    });

    const restoredRoles = new Set(containers.map((c) => c.role));
    const configRoles = new Set(fromConfig.containers.map((c) => c.role));
    for (const role of restoredRoles) if (!configRoles.has(role)) book.add({ kind: 'role-restored', role }, host);
    for (const role of configRoles) if (!restoredRoles.has(role)) book.add({ kind: 'role-not-in-release', role }, host);

    // Traefik only where a restored container is routed (as desired() does for the config's roles)
    let traefik: TraefikSpec | undefined;
    if (containers.some((c) => c.proxied)) {
      const released = recorded.traefik ? restoreTraefik(recorded.traefik) : undefined;
      const differs = released !== undefined && released.specHash !== configTraefik.specHash;
      traefik = input.traefik === 'restore' && released ? released : configTraefik;
      if (differs) book.add({ kind: input.traefik === 'restore' ? 'traefik-restored' : 'traefik-kept' }, host);
    }
    // Accessories are not versioned with the app and the ledger keeps none of them: `rest` carries
    // the config's (a rollback or drift --fix never brings back an accessory's older spec).
    const { traefik: _configs, ...rest } = fromConfig;
    hosts[host] = { ...rest, containers, ...(traefik ? { traefik } : {}) };
  }

  if (missing.size > 0) {
    const list = [...missing].map(([name, where]) => `${name} (${where.join(', ')})`).join('; ');
    throw new ConfigError(`the release ran with secret(s) the config no longer gives: ${list}. Add them back to env.secret (today's values are used), or deploy instead of rolling back`);
  }
  return { desired: { ...base, hosts }, notes: book.notes() };
}

/** A note as a sentence (secret values are never known here, so none can be shown). */
export function describeNote(note: ReleaseNote, release: string): string {
  const on = `on ${note.hosts.join(', ')}`;
  switch (note.kind) {
    case 'not-recorded':
      return `${on}: no record of release ${release}; the current config is used at its version`;
    case 'config-not-restored':
      return `${on}: the record of release ${release} keeps no config (written by an older mrsk, or unreadable); only its version is restored, with the current config`;
    case 'secret-changed':
      return `secret ${note.name} has changed since release ${release} (${on}): its current value is used, so the container is replaced instead of started again`;
    case 'role-restored':
      return `role ${note.role} ran in release ${release} but is no longer in the config: it runs again ${on}`;
    case 'role-not-in-release':
      return `role ${note.role} is in the config but did not run in release ${release}: its containers are taken off ${on}`;
    case 'traefik-kept':
      return `${on}: Traefik differs from release ${release}'s and is kept as the config has it (--restore-traefik restores it)`;
    case 'traefik-restored':
      return `${on}: Traefik goes back to release ${release}'s (replaced stop-first: HTTP fails for a few seconds per host)`;
  }
}
