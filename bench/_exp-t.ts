import { join } from 'node:path';
import { bringUp, repoRoot, runOk } from '../test/e2e/harness.ts';
import { benchConfig } from './bed-config.ts';
import { installPackage } from './package.ts';
const installed = installPackage();
process.env.MRSK_E2E_BIN = installed.bin;
const bed = await bringUp(3, { podman: 0 });
try {
  for (const tag of ['t0', 't1']) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), tag], { timeoutMs: 300_000 });
  const config = await benchConfig(bed);
  const setup = await bed.mrsk(['setup', '--skip-push', '--version', 't0', '-q', '-c', config], { timeoutMs: 300_000 });
  if (setup.code !== 0) throw new Error(setup.stderr);
  process.env.MRSK_T = '1';
  for (const args of [['deploy', '--skip-push', '--version', 't1'], ['rollback', 't0'], ['deploy', '--skip-push', '--version', 't1'], ['plan']]) {
    const r = await bed.mrsk([...args, '--json', '-c', config], { timeoutMs: 300_000 });
    const evs = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    console.log(`\n== ${args.join(' ')}: ${r.ms} ms exit ${r.code}`);
    console.log(r.stderr.split('\n').filter((l) => l.startsWith('T ')).join('\n'));
  }
  await bed.mrsk(['remove', '-y', '-c', config]);
} finally { await bed.tearDown(); installed.remove(); }
