// Conformance with Kamal: each folder here is a project whose config/deploy.yml was written from
// Kamal's documentation (one per key family, plus files shaped like `kamal init` 1.x and 2.x and
// the Rails 8 generator's). Loading it must give the resolved config and the container specs in
// its expected.json (image reference, container name, labels, env, argv, log options…).
//
// A folder may hold:
//   case.json     { "destination"?, "env"?, "secret_values"? }  the -d, the process environment,
//                 and the value each named secret must resolve to (test values, never real ones)
//   pending.json  { "<top-level key>": "reason" }  keys mrsk does not read yet: the test checks
//                 that loading fails on exactly these keys, then checks the rest of the file with
//                 them removed. An entry for a key that loads fails the test, so it must go.
// UPDATE_GOLDEN=1 rewrites expected.json; read the diff before committing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { presentConfig } from '../../src/config/present.ts';
import type { Config } from '../../src/config/types.ts';
import { deriveDesired } from '../../src/desired/desired.ts';
import { SPEC_HASH_LABEL, SPEC_PARTS_LABEL } from '../../src/model/labels.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const cases = readdirSync(here, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
const VERSION = 'v1';
const FAMILIES = [
  'boot', 'builder', 'builder-kamal1', 'builder-kamal2', 'destinations', 'env', 'healthcheck', 'hooks', 'kamal-init-1', 'kamal-init-2', 'labels', 'logging', 'proxy', 'rails-8',
  'registry', 'secrets-kamal1', 'secrets-kamal2', 'servers', 'ssh', 'top-level', 'traefik', 'volumes',
];

interface CaseSettings {
  readonly destination?: string;
  readonly env?: Record<string, string>;
  readonly secret_values?: Record<string, string>;
}

const readJson = <T>(file: string, fallback: T): T => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : fallback);

/** What a conformance file promises: the resolved config and, per host, what runs there. */
function summary(config: Config): unknown {
  const { file: _file, root: _root, ...shown } = presentConfig(config);
  void _file;
  void _root;
  const state = deriveDesired(config, VERSION);
  const hosts: Record<string, unknown> = {};
  for (const [host, wanted] of Object.entries(state.hosts)) {
    hosts[host] = {
      containers: wanted.containers.map((spec) => ({
        name: spec.name,
        image: spec.image,
        ...(spec.cmd ? { argv: spec.cmd } : {}),
        env: spec.env,
        secret_env: Object.keys(spec.secretEnv).sort(),
        labels: withoutDerived(spec.labels),
        logging: spec.logging,
        volumes: spec.volumes,
        // asset_path bridging: the host folder (home-relative) mounted over the asset path.
        ...(spec.assets ? { assets: `${spec.assets.hostDir}:${spec.assets.path}` } : {}),
        options: spec.options,
        proxied: spec.proxied,
        ...(spec.healthcheck ? { healthcheck: spec.healthcheck.cmd } : {}),
        ...(spec.stopTimeout !== undefined ? { stop_timeout: spec.stopTimeout } : {}),
      })),
      ...(wanted.traefik
        ? { traefik: { image: wanted.traefik.image, args: wanted.traefik.args, ports: wanted.traefik.ports, env: wanted.traefik.env ?? {}, labels: withoutDerived(wanted.traefik.labels), options: wanted.traefik.options } }
        : {}),
    };
  }
  return { config: shown, batches: state.batches, hosts };
}

function withoutDerived(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { [SPEC_PARTS_LABEL]: _parts, [SPEC_HASH_LABEL]: _hash, ...rest } = labels;
  void _parts;
  void _hash;
  return rest;
}

/** A copy of the project with the pending keys removed (top level and per role). */
function withoutPending(folder: string, keys: readonly string[]): string {
  const copy = mkdtempSync(join(tmpdir(), 'mrsk-conformance-'));
  cpSync(folder, copy, { recursive: true });
  const file = join(copy, 'config/deploy.yml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  for (const key of keys) {
    doc.delete(key);
    const servers = doc.get('servers', true) as { items?: { value?: { delete?: (k: string) => unknown } }[] } | undefined;
    for (const item of servers?.items ?? []) item.value?.delete?.(key);
  }
  writeFileSync(file, doc.toString());
  return copy;
}

test('every Kamal key family has its conformance file', () => {
  assert.deepEqual(cases, FAMILIES);
});

for (const name of cases) {
  const folder = join(here, name);
  const settings = readJson<CaseSettings>(join(folder, 'case.json'), {});
  const pending = readJson<Record<string, string>>(join(folder, 'pending.json'), {});
  const load = (root: string) =>
    loadConfig({ file: 'config/deploy.yml', cwd: root, env: { PATH: process.env.PATH, ...(settings.env ?? {}) }, ...(settings.destination ? { destination: settings.destination } : {}) });

  test(`${name}: loads with Kamal's meaning (resolved config and container specs as in expected.json)`, async (t) => {
    let root = folder;
    const pendingKeys = Object.keys(pending);
    if (pendingKeys.length > 0) {
      // Not yet: loading fails on exactly the pending keys, each with a message saying what to do.
      const error = await load(folder).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      assert.ok(error instanceof ConfigError, `${name} loaded although ${pendingKeys.join(', ')} ${pendingKeys.length === 1 ? 'is' : 'are'} marked pending: remove ${pendingKeys.length === 1 ? 'it' : 'them'} from pending.json`);
      // Each refusal names a pending key somewhere in its path (proxy, servers.web.proxy, …).
      const failedKeys = [...new Set(error.diagnostics.map((d) => String(d.path).split(/[.[\]"]+/).find((part) => part in pending) ?? `${d.path}: ${d.message}`))];
      assert.deepEqual(failedKeys.sort(), pendingKeys.sort(), `the only refusals are the pending keys; got:\n${error.message}`);
      for (const reason of Object.values(pending)) assert.ok(reason.length > 40, 'each pending key says why, and what ends it');
      root = withoutPending(folder, pendingKeys);
      t.after(() => rmSync(root, { recursive: true, force: true }));
    }
    const config = await load(root);
    const actual = JSON.parse(JSON.stringify(summary(config))) as unknown;
    const golden = join(folder, 'expected.json');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, `${JSON.stringify(actual, null, 2)}\n`);
    assert.ok(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 and read it`);
    assert.deepEqual(actual, JSON.parse(readFileSync(golden, 'utf8')));
    // Each secret resolves to its expected value (file over environment, $(…) and $VAR evaluated) …
    const resolved = Object.fromEntries(config.secrets.map((secret) => [secret.name, secret.reveal()]));
    for (const [secretName, value] of Object.entries(settings.secret_values ?? {})) assert.equal(resolved[secretName], value, `secret ${secretName}`);
    // … and no secret value reaches the summary (names only).
    const text = JSON.stringify(actual);
    for (const secret of config.secrets) if (secret.reveal().length >= 6) assert.ok(!text.includes(secret.reveal()), `secret ${secret.name} leaked into the summary`);
  });
}
