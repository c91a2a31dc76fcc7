// Kamal habits get a pointer to the mrsk way, as a usage error (exit 64), before any
// connection: each is run through the real bin under `unshare -n` (no network at all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandPointer, optionPointer } from '../../../src/cli/habits.ts';
import { spawnCollect, type Run } from '../../helpers/spawn-collect.ts';

const bin = fileURLToPath(new URL('../../../bin/mrsk.js', import.meta.url));

function offline(cwd: string, args: string[]): Promise<Run> {
  return spawnCollect('unshare', ['-n', process.execPath, bin, ...args], { cwd, env: { PATH: process.env.PATH, HOME: cwd, NO_COLOR: '1' } });
}

// Each habit, and what its pointer must name.
const HABITS: readonly [args: string[], pointer: RegExp][] = [
  [['version'], /`mrsk --version` prints mrsk's version, `mrsk app version` the app version/],
  [['build', 'push'], /unknown command 'build push'.*`mrsk deploy` builds, pushes and rolls out/],
  [['build', 'deliver'], /`mrsk deploy`/],
  [['proxy', 'reboot'], /did you mean `mrsk traefik reboot`\?/],
  [['proxy', 'logs'], /did you mean `mrsk traefik logs`\?/],
  [['proxy'], /did you mean `mrsk traefik --help`\?/],
  [['plan', '--config-file', 'config/deploy.yml'], /unknown option '--config-file' \(Kamal's\): mrsk's is -c\/--config/],
  [['--config-file=config/deploy.yml', 'plan'], /-c\/--config/],
  [['deploy', '-P'], /Kamal's -P is --skip-push here \(mrsk deploy --skip-push\); -p\/--primary/],
  [['plan', '-P'], /-p\/--primary selects the primary host only/],
  [['remove', '--confirmed'], /mrsk's is -y\/--auto-approve, e.g\. mrsk remove -y/],
  [['prune', '--confirmed'], /mrsk prune does not ask for confirmation/],
  [['app', 'exec', '--version', 'v1', 'ls'], /app exec runs the deployed version.*--reuse.*`mrsk app version`/],
  [['details', '--version'], /`mrsk --version` prints mrsk's version/],
  [['deploy', '--skip_push'], /did you mean --skip-push\?/],
  [['app', 'remove'], /`mrsk remove` removes the app/],
];

test('each Kamal habit exits 64 with its pointer, offline, printing nothing on stdout', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-habits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await Promise.all(
    HABITS.map(async ([args, pointer]) => {
      const run = await offline(dir, args);
      assert.equal(run.code, 64, `mrsk ${args.join(' ')}: ${run.stderr}`);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^error: /);
      assert.match(run.stderr, pointer, `mrsk ${args.join(' ')}`);
    }),
  );
});

test('what is no habit keeps commander’s message', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-habits-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const run = await offline(dir, ['plan', '--bogus']);
  assert.equal(run.code, 64);
  assert.match(run.stderr, /^error: unknown option '--bogus'/);
  assert.equal(commandPointer(['versoin']), undefined);
  assert.equal(optionPointer({ path: 'plan', longs: ['--json'], shorts: [] }, '--bogus'), undefined);
  assert.equal(optionPointer({ path: 'plan', longs: ['--json'], shorts: [] }, '--no_such'), undefined, 'an underscore spelling of nothing gets no guess');
});

test('pointers are pure: proxy subcommands map to the Traefik ones that exist', () => {
  assert.match(commandPointer(['proxy', 'upgrade'], ['reboot', 'logs'])!, /`mrsk traefik reboot`/);
  assert.match(commandPointer(['proxy', 'boot_config'], [])!, /traefik: in config\/deploy\.yml/);
  assert.match(commandPointer(['proxy', 'nonsense'], ['reboot'])!, /`mrsk traefik --help`/);
  assert.match(optionPointer({ path: '', longs: [], shorts: [] }, '--config_file')!, /e\.g\. mrsk -c config\/deploy\.yml/);
  assert.equal(optionPointer({ path: 'deploy', longs: ['--skip-hooks'], shorts: ['-H'] }, '--skip_hooks'), "unknown option '--skip_hooks': did you mean --skip-hooks?");
  assert.match(optionPointer({ path: 'app boot', longs: [], shorts: [] }, '-H')!, /mrsk app boot runs no hooks; deploy, redeploy, setup and traefik reboot run them and take -H\/--skip-hooks/);
});
