// Saved plans (`mrsk plan --out FILE`, applied later with `mrsk apply FILE`). The file holds the
// full plan and the fingerprint of the snapshot it was made from, but never a secret value:
// container specs carry their secret env as names only, the app's Traefik file its certificates
// and keys as names with short HMACs (which name a secret whose value changed). Reading the file re-attaches the values
// from the current config and refuses when a secret is gone or its value changed, because the
// spec hash (and so the container's labels) was computed from the old value.
import type { Config } from '../config/types.ts';
import { containerSpecHash, parseSpecParts, secretDigestKey, type ContainerSpecParts } from '../desired/spec-hash.ts';
import { hmacHex } from '../desired/canonical.ts';
import type { ContainerSpec, TraefikFileSpec } from '../desired/types.ts';
import { traefikFileHash } from '../desired/proxy-routing.ts';
import { StalePlanError, UsageError } from '../errors.ts';
import type { Secret } from '../secret.ts';
import type { Plan, PlanStep } from './types.ts';

/** The on-disk form's kind marker, so a random JSON file is not mistaken for a plan. */
const KIND = 'mrsk-plan';

type SavedSpec = Omit<ContainerSpec, 'secretEnv'> & { readonly secretEnv: readonly string[] };

/** A secret of the app's Traefik file as saved: its name and the first 16 hex digits of its value's per-project HMAC. */
interface SavedSecret {
  readonly secret: string;
  readonly digest: string;
}
type SavedTraefikFile = Omit<TraefikFileSpec, 'certificates'> & {
  readonly certificates: readonly { readonly certificate: SavedSecret; readonly privateKey: SavedSecret }[];
};

/** The short HMAC that says whether a secret's value changed, never what it is (as in mrsk.spec-parts). */
function shortDigest(service: string, destination: string | undefined, secret: Secret): string {
  return hmacHex(secretDigestKey(service, destination), secret.reveal()).slice(0, 16);
}

/** Serializes a plan for --out: JSON, secrets as names only. `fingerprint` defaults to the plan's own. */
export function serializePlan(plan: Plan, fingerprint: string = plan.snapshotFingerprint): string {
  const steps = plan.steps.map((step) => {
    if (step.action.kind === 'traefik-file-write') {
      const file = step.action.file;
      const saved = (secret: Secret): SavedSecret => ({ secret: secret.name, digest: shortDigest(plan.service, plan.destination, secret) });
      const certificates = file.certificates.map((pair) => ({ certificate: saved(pair.certificate), privateKey: saved(pair.privateKey) }));
      const savedFile: SavedTraefikFile = { ...file, certificates };
      return { ...step, action: { ...step.action, file: savedFile } };
    }
    if (step.action.kind !== 'container-run') return step;
    const spec = step.action.spec;
    // Overwriting in place keeps the key order, so a read-back plan serializes identically.
    const saved: SavedSpec = { ...spec, secretEnv: Object.keys(spec.secretEnv).sort() };
    return { ...step, action: { ...step.action, spec: saved } };
  });
  const document = {
    format_version: plan.formatVersion,
    kind: KIND,
    service: plan.service,
    destination: plan.destination ?? null,
    version: plan.version,
    ...(plan.intent ? { intent: plan.intent } : {}),
    snapshot_fingerprint: fingerprint,
    batch_wait: plan.batchWait,
    blocked_hosts: plan.blockedHosts,
    steps,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function secretFor(config: Config, role: string, name: string): Secret | undefined {
  return config.roles.find((candidate) => candidate.name === role)?.env.secret[name];
}

function reattach(config: Config, step: PlanStep, saved: SavedSpec): ContainerSpec {
  const secretEnv: Record<string, Secret> = {};
  for (const name of saved.secretEnv) {
    const secret = secretFor(config, saved.role, name);
    if (!secret) throw new StalePlanError(`${step.host}: the saved plan needs secret ${name} for role ${saved.role}, which the config no longer has; run plan again`);
    secretEnv[name] = secret;
  }
  const spec: ContainerSpec = { ...saved, secretEnv };
  const { specHash: _specHash, ...unhashed } = spec;
  if (containerSpecHash(unhashed) !== saved.specHash) {
    // Name the secrets whose values changed, from the short HMACs in the spec-parts label.
    const parts = parseSpecParts<ContainerSpecParts>(saved.labels);
    const key = secretDigestKey(saved.service, saved.destination);
    const changed = Object.entries(secretEnv)
      .filter(([name, secret]) => parts?.secrets?.[name] !== hmacHex(key, secret.reveal()).slice(0, 16))
      .map(([name]) => name);
    const what = changed.length > 0 ? `the value of ${changed.join(', ')} changed` : 'the container spec no longer matches its hash';
    throw new StalePlanError(`${step.host}: ${what} since the plan was saved; run plan again`);
  }
  return spec;
}

/** The certificates and keys the config's proxy settings name, by secret name. */
function proxySecrets(config: Config): Map<string, Secret> {
  const secrets = new Map<string, Secret>();
  for (const role of config.roles) {
    const ssl = role.proxy?.ssl;
    if (ssl?.kind !== 'custom') continue;
    secrets.set(ssl.certificate.name, ssl.certificate);
    secrets.set(ssl.privateKey.name, ssl.privateKey);
  }
  return secrets;
}

/** The app's Traefik file with its certificates and keys from the config, checked against the saved digests and hash. */
function reattachTraefikFile(config: Config, step: PlanStep, saved: SavedTraefikFile): TraefikFileSpec {
  const known = proxySecrets(config);
  const changed: string[] = [];
  const secret = (entry: SavedSecret): Secret => {
    const found = known.get(entry.secret);
    if (!found) throw new StalePlanError(`${step.host}: the saved plan needs secret ${entry.secret} for the Traefik file ${saved.name}, which the config no longer has; run plan again`);
    if (shortDigest(config.service, config.destination, found) !== entry.digest && !changed.includes(entry.secret)) changed.push(entry.secret);
    return found;
  };
  const certificates = saved.certificates.map((pair) => ({ certificate: secret(pair.certificate), privateKey: secret(pair.privateKey) }));
  if (changed.length > 0) throw new StalePlanError(`${step.host}: the value of ${changed.join(', ')} changed since the plan was saved; run plan again`);
  const file: TraefikFileSpec = { ...saved, certificates };
  if (traefikFileHash(config.service, config.destination, file) !== saved.hash) {
    throw new StalePlanError(`${step.host}: the Traefik file ${saved.name} no longer matches its hash; run plan again`);
  }
  return file;
}

/**
 * Reads a saved plan and re-attaches secret values from `config`. Throws UsageError for a file
 * that is not a plan, StalePlanError when the plan no longer fits the config.
 */
export function parsePlanFile(text: string, config: Config): Plan {
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`not a saved mrsk plan (invalid JSON: ${(error as Error).message})`);
  }
  if (document === null || typeof document !== 'object' || document.kind !== KIND) throw new UsageError('not a saved mrsk plan (no "kind": "mrsk-plan")');
  if (document.format_version !== '1') throw new UsageError(`saved plan has format_version ${String(document.format_version)}; this mrsk reads version 1`);
  const destination = (document.destination as string | null) ?? undefined;
  if (document.service !== config.service || destination !== config.destination) {
    throw new StalePlanError(
      `the saved plan is for ${String(document.service)}${destination ? ` (${destination})` : ''}, not ${config.service}${config.destination ? ` (${config.destination})` : ''}`,
    );
  }
  const steps = (document.steps as PlanStep[]).map((step): PlanStep => {
    if (step.action.kind === 'traefik-file-write') {
      return { ...step, action: { ...step.action, file: reattachTraefikFile(config, step, step.action.file as unknown as SavedTraefikFile) } };
    }
    if (step.action.kind !== 'container-run') return step;
    const saved = step.action.spec as unknown as SavedSpec;
    // Spread, so fields beside the spec (replaces) survive the round trip.
    return { ...step, action: { ...step.action, spec: reattach(config, step, saved) } };
  });
  return {
    formatVersion: '1',
    service: config.service,
    ...(destination ? { destination } : {}),
    version: String(document.version),
    ...(document.intent ? { intent: document.intent as Plan['intent'] } : {}),
    steps,
    blockedHosts: (document.blocked_hosts as Plan['blockedHosts']) ?? [],
    snapshotFingerprint: String(document.snapshot_fingerprint),
    batchWait: Number(document.batch_wait ?? 0),
  };
}
