// `mrsk details` reads each host once: Traefik's list, then the app's, in turn over the host's one
// connection, so a fleet larger than ssh.max_concurrent is not connected to twice. The sections
// still print as before: Traefik's for every host, then the app's, in host order, each as soon as
// it and those before it are known; --json and the exit code are per host as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand } from '../../helpers/session.ts';
import { fail, ok, ScriptedRunner, type ScriptedCall } from '../../helpers/scripted-runner.ts';

const psLine = (name: string, image: string, labels: string) =>
  `${JSON.stringify({ ID: `${name}-id`, Image: image, Command: '"run"', CreatedAt: '2026-12-01 10:00:00 +0000 UTC', RunningFor: '1 hour', Status: 'Up 1 hour', State: 'running', Ports: '', Names: name, Labels: labels })}\n`;
const isTraefikPs = (call: ScriptedCall) => call.argv?.[1] === 'ps' && call.argv.includes('name=^traefik$');
const isAppPs = (call: ScriptedCall) => call.argv?.[1] === 'ps' && call.argv.includes('label=mrsk.service=app');

/** A runner whose h1 answers Traefik's list only after h2 has listed its app containers. */
function fleet(h2Traefik = ok(psLine('traefik', 'traefik:v3.6', ''))) {
  const runner = new ScriptedRunner();
  const order: string[] = [];
  let h2AppListed!: () => void;
  const h2AppDone = new Promise<void>((resolve) => (h2AppListed = resolve));
  runner.on({ prefix: ['docker', 'ps'] }, async (call) => {
    const what = isTraefikPs(call) ? 'traefik' : isAppPs(call) ? 'app' : undefined;
    if (!what) return undefined;
    order.push(`${call.host} ${what}`);
    if (call.host === 'h1.test' && what === 'traefik') await h2AppDone;
    if (call.host === 'h2.test' && what === 'traefik') return h2Traefik;
    if (what === 'traefik') return ok(psLine('traefik', 'traefik:v3.6', ''));
    if (call.host === 'h2.test') h2AppListed();
    return ok(psLine(`app-web-v1`, 'acme/app:v1', 'mrsk.service=app,mrsk.role=web'));
  });
  return { runner, order };
}

test('each host lists Traefik then the app in one pass; sections print Traefik first, in host order', async () => {
  const { runner, order } = fleet();
  const run = await runCommand(['details'], runner);
  assert.equal(run.code, 0, run.stderr);
  // h2 went on to its app list while h1 was still listing Traefik: no second pass over the hosts
  assert.ok(order.indexOf('h2.test app') < order.indexOf('h1.test app'), order.join(', '));
  for (const host of ['h1.test', 'h2.test']) assert.ok(order.indexOf(`${host} traefik`) < order.indexOf(`${host} app`), `${host} reads Traefik first`);
  const headers = run.stdout.split('\n').filter((line) => / Host: /.test(line));
  assert.deepEqual(headers, ['Traefik Host: h1.test', 'Traefik Host: h2.test', 'App Host: h1.test', 'App Host: h2.test']);
  assert.deepEqual(runner.unexpected, []);
});

test('a host whose Traefik list fails still lists its app; the run exits 1', async () => {
  const { runner } = fleet(fail('Cannot connect to the Docker daemon', 1));
  const run = await runCommand(['details', '--json'], runner);
  assert.equal(run.code, 1);
  const doc = JSON.parse(run.stdout) as { hosts: Record<string, { traefik?: unknown[]; traefikError?: string; app?: { names: string }[] }> };
  assert.deepEqual(Object.keys(doc.hosts), ['h1.test', 'h2.test']);
  assert.equal(doc.hosts['h1.test']!.traefik?.length, 1);
  assert.match(doc.hosts['h2.test']!.traefikError ?? '', /docker ps .*name=\^traefik\$.* failed \(exit 1\)/);
  assert.deepEqual(doc.hosts['h2.test']!.app?.map((c) => c.names), ['app-web-v1']);
});
