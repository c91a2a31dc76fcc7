// The identity of a container's content: `mrsk.spec-hash=v1:<sha256>` over the canonical spec, and
// `mrsk.spec-parts`, a per-part summary stored beside it so a plan can say *what* changed.
//
// Secret values enter both only as HMAC-SHA256 keyed per project (service + destination). Trade-off:
// the key is derivable from the config, so it does not stop someone who can read container labels
// from confirming a guessed low-entropy secret offline; it does stop equal secrets of different
// projects from showing equal digests, and reveals nothing about a high-entropy secret. A key
// kept only on the deploy machine would be stronger but make hashes differ between operators,
// which would turn every deploy from another laptop into a spurious replace.
import type { ContainerSpec, TraefikSpec } from './types.ts';
import { canonicalJson, hmacHex, sha256Hex } from './canonical.ts';
import { createHash } from 'node:crypto';
import { SPEC_HASH_LABEL, SPEC_PARTS_LABEL } from '../model/labels.ts';

/** The hash and parts labels are derived from the spec, so never part of the hash input. */
const DERIVED_LABELS = new Set([SPEC_HASH_LABEL, SPEC_PARTS_LABEL]);

/** The per-project HMAC key for secret values (see the trade-off above). */
export function secretDigestKey(service: string, destination?: string): Buffer {
  return createHash('sha256').update(`mrsk spec-hash secret key v1\0${service}\0${destination ?? ''}`, 'utf8').digest();
}

/** A spec without its derived parts (hash, and the cord folder named after the hash). */
export type UnhashedContainerSpec = Omit<ContainerSpec, 'specHash' | 'cordDir'> & { readonly cordDir?: string };
/** A Traefik spec before its hash is added. */
export type UnhashedTraefikSpec = Omit<TraefikSpec, 'specHash'>;

function withoutDerivedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) if (!DERIVED_LABELS.has(key)) kept[key] = value;
  return kept;
}

function secretDigests(spec: UnhashedContainerSpec): Record<string, string> {
  const key = secretDigestKey(spec.service, spec.destination);
  const digests: Record<string, string> = {};
  for (const [name, secret] of Object.entries(spec.secretEnv)) digests[name] = hmacHex(key, secret.reveal());
  return digests;
}

/** `v1:<sha256 hex>` of the canonical container spec (secret values as HMACs, derived labels left out). */
export function containerSpecHash(spec: UnhashedContainerSpec): string {
  // cordDir is named after the hash, so it cannot be part of it.
  const { secretEnv: _secretEnv, labels, cordDir: _cordDir, ...rest } = spec;
  const input = { ...rest, labels: withoutDerivedLabels(labels), secretEnv: secretDigests(spec) };
  return `v1:${sha256Hex(canonicalJson(input))}`;
}

/** `v1:<sha256 hex>` of the canonical Traefik spec. */
export function traefikSpecHash(spec: UnhashedTraefikSpec): string {
  const { labels, ...rest } = spec;
  return `v1:${sha256Hex(canonicalJson({ ...rest, labels: withoutDerivedLabels(labels) }))}`;
}

const shortDigest = (value: unknown): string => sha256Hex(canonicalJson(value ?? null)).slice(0, 12);

/**
 * What a container's `mrsk.spec-parts` label holds: values that are safe to show (image, cmd, clear
 * env) verbatim, secrets as a short HMAC, the rest as short digests, so diff can name the change.
 */
export interface ContainerSpecParts {
  readonly image: string;
  readonly cmd: readonly string[] | null;
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly volumes: string;
  readonly labels: string;
  readonly healthcheck: string;
  readonly logging: string;
  readonly options: string;
  readonly network: string;
}

/** The parts summary of a container spec (see ContainerSpecParts). */
export function containerSpecParts(spec: UnhashedContainerSpec): ContainerSpecParts {
  const secrets: Record<string, string> = {};
  for (const [name, digest] of Object.entries(secretDigests(spec))) secrets[name] = digest.slice(0, 16);
  return {
    image: spec.image,
    cmd: spec.cmd ? [...spec.cmd] : null,
    env: { ...spec.env },
    secrets,
    // The assets mount counts as a volume; absent, the digest is what it always was.
    volumes: shortDigest(spec.assets ? [...spec.volumes, `${spec.assets.hostDir}:${spec.assets.path}`] : spec.volumes),
    labels: shortDigest(withoutDerivedLabels(spec.labels)),
    healthcheck: shortDigest(spec.healthcheck),
    logging: shortDigest(spec.logging),
    options: shortDigest(spec.options),
    network: spec.network,
  };
}

/** What Traefik's `mrsk.spec-parts` label holds: image, args and ports verbatim, the rest as digests. */
export interface TraefikSpecParts {
  readonly image: string;
  readonly args: readonly string[];
  readonly ports: readonly string[];
  readonly volumes: string;
  readonly labels: string;
  readonly options: readonly string[];
  readonly network: string;
}

/** The parts summary of a Traefik spec. */
export function traefikSpecParts(spec: UnhashedTraefikSpec): TraefikSpecParts {
  return {
    image: spec.image,
    args: [...spec.args],
    ports: [...spec.ports],
    volumes: shortDigest(spec.volumes),
    labels: shortDigest(withoutDerivedLabels(spec.labels)),
    options: [...spec.options],
    network: spec.network,
  };
}

/** Reads a `mrsk.spec-parts` label; undefined when absent or not ours (older mrsk, hand edits). */
export function parseSpecParts<T>(labels: Readonly<Record<string, string>>): Partial<T> | undefined {
  const raw = labels[SPEC_PARTS_LABEL];
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Partial<T>) : undefined;
  } catch {
    return undefined;
  }
}

/** Adds the derived labels (parts, then hash) to a spec and returns the finished spec. */
export function finishContainerSpec(spec: UnhashedContainerSpec): ContainerSpec {
  const specHash = containerSpecHash(spec);
  const labels = { ...spec.labels, [SPEC_PARTS_LABEL]: canonicalJson(containerSpecParts(spec)), [SPEC_HASH_LABEL]: specHash };
  return { ...spec, labels, specHash };
}

/** Adds the derived labels to a Traefik spec. */
export function finishTraefikSpec(spec: UnhashedTraefikSpec): TraefikSpec {
  const specHash = traefikSpecHash(spec);
  const labels = { ...spec.labels, [SPEC_PARTS_LABEL]: canonicalJson(traefikSpecParts(spec)), [SPEC_HASH_LABEL]: specHash };
  return { ...spec, labels, specHash };
}
