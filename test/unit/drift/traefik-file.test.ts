// Drift of the app's own Traefik file: gone or not the config's is fixable drift, and --fix's
// plan writes it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allFindings, detectDrift } from '../../../src/drift/detect.ts';
import { fixIntent } from '../../../src/drift/fix-intent.ts';
import { diff } from '../../../src/plan/diff.ts';
import { UNKNOWN_TRAEFIK_FILE_HASH, type ReachableHost, type Snapshot } from '../../../src/probe/types.ts';
import { editHost, httpsConfig, TLS_CERTIFICATE_A, TLS_PRIVATE_KEY } from '../helpers/scenarios.ts';
import { deployedSnapshot } from '../helpers/snapshot.ts';
import { makeConfig } from '../helpers/config.ts';

const H1 = 'h1.example.com';
const config = httpsConfig();
const scope = { hosts: config.hosts };
const findings = (snapshot: Snapshot) => allFindings(detectDrift(config, snapshot, scope)).map((f) => `${f.host} ${f.kind} ${f.fixable}`);

test('a deployed app with its file has no drift', () => {
  assert.deepEqual(findings(deployedSnapshot(config, 'v1')), []);
});

test('a missing file or one that is not the config\'s is fixable drift, named by its path and never its content', () => {
  const deployed = deployedSnapshot(config, 'v1');
  const gone = editHost(deployed, H1, (h) => {
    const { traefikFileHash: _gone, ...rest } = h;
    return rest as ReachableHost;
  });
  assert.deepEqual(findings(gone), [`${H1} traefik-file-missing true`]);
  const edited = editHost(deployed, H1, (h) => ({ ...h, traefikFileHash: UNKNOWN_TRAEFIK_FILE_HASH }));
  assert.deepEqual(findings(edited), [`${H1} traefik-file-differs true`]);
  const [finding] = allFindings(detectDrift(config, edited, scope));
  assert.match(finding!.cause, /~\/\.mrsk\/traefik\/dynamic\/app\.yml differs/);
  for (const secret of [TLS_CERTIFICATE_A, TLS_PRIVATE_KEY]) assert.ok(!JSON.stringify(finding).includes(secret));

  // --fix plans the file's write on that host only, with the config's certificate
  const intent = fixIntent(config, gone, scope);
  assert.ok(intent.plan);
  const plan = diff(intent.plan.desired, gone, { ...intent.plan.request, hosts: intent.plan.hosts });
  assert.deepEqual(plan.steps.map((s) => `${s.id} ${s.symbol}`), [`${H1}:traefik-file:write +`]);
});

test('an app whose config needs no file reports none', () => {
  const plain = makeConfig();
  assert.deepEqual(allFindings(detectDrift(plain, deployedSnapshot(plain, 'v1'), { hosts: plain.hosts })), []);
});
