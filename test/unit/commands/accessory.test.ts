// mrsk accessory: what each verb asks the planner for (accessoryIntent, every verb), which
// accessories NAME|all means and on which hosts -h/-r/-p leave them, the confirmation questions
// (what happens to the data), the help pages, and the refusals the real bin makes under
// `unshare -n` (no network): an unknown name, a malformed option, exec on `all`: exit 64 before
// any connection. Needs root for unshare, as the e2e suite does; without it the test fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import type { AccessoryConfig } from '../../../src/config/types.ts';
import { UsageError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';
import { accessoryIntent, CHANGE_VERBS, confirmQuestion, nextSteps } from '../../../src/commands/accessory/change.ts';
import type { Plan, PlanStep } from '../../../src/plan/types.ts';
import { register } from '../../../src/commands/accessory/index.ts';
import { accessoryContainerName, accessoryLogins, resolveAccessories, selectAccessoryHosts, targetHosts, type AccessoryTarget } from '../../../src/commands/shared/accessories.ts';
import { addGlobalOptions, type Bind } from '../../../src/cli/program.ts';
import { EVENT_COMMANDS } from '../../../src/cli/pipeline.ts';
import { commandTable } from '../../../src/cli/registry.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { spawnCollect, type Run } from '../../helpers/spawn-collect.ts';

function accessory(name: string, hosts: readonly string[]): AccessoryConfig {
  return { name, image: `${name}:7`, hosts, env: makeEnv(), volumes: [], labels: {}, options: {}, files: [], directories: [] };
}

// web on h1+h2, job on h1; redis on h1 (a role host), db on db1 (no role), search on h2 and db1
const config = makeConfig({
  roles: [makeRole('web', { hosts: ['h1', 'h2'] }), makeRole('job', { hosts: ['h1'], cmd: 'bin/jobs' })],
  accessories: [accessory('redis', ['h1']), accessory('db', ['db1']), accessory('search', ['h2', 'db1'])],
});
const [redis, db, search] = config.accessories as [AccessoryConfig, AccessoryConfig, AccessoryConfig];

const target = (a: AccessoryConfig, hosts: readonly string[] = a.hosts): AccessoryTarget => ({ accessory: a, hosts });

test('accessoryIntent: every verb, one accessory', () => {
  const one = [target(redis)];
  const expected: Record<(typeof CHANGE_VERBS)[number], unknown> = {
    boot: { target: 'accessory', accessories: ['redis'] },
    reboot: { target: 'accessory', accessories: ['redis'], replace: ['h1/accessory/redis'], hostsInSeries: true },
    start: { target: 'accessory', accessories: ['redis'], mode: 'start' },
    stop: { target: 'accessory', accessories: ['redis'], mode: 'stop' },
    restart: { target: 'accessory', accessories: ['redis'], mode: 'restart', hostsInSeries: true },
    remove: { target: 'accessory', accessories: ['redis'], mode: 'destroy' },
    upload: { target: 'accessory', accessories: ['redis'], mode: 'upload' },
  };
  assert.deepEqual(Object.keys(expected).sort(), [...CHANGE_VERBS].sort());
  for (const verb of CHANGE_VERBS) assert.deepEqual(accessoryIntent(verb, one), expected[verb], verb);
});

test('accessoryIntent: remove keeps the data unless --data; --data means nothing to the other verbs', () => {
  assert.equal(accessoryIntent('remove', [target(redis)]).removeData, undefined);
  assert.equal(accessoryIntent('remove', [target(redis)], { data: false }).removeData, undefined);
  assert.equal(accessoryIntent('remove', [target(redis)], { data: true }).removeData, true);
  for (const verb of CHANGE_VERBS.filter((v) => v !== 'remove')) assert.equal(accessoryIntent(verb, [target(redis)], { data: true }).removeData, undefined, verb);
});

test('accessoryIntent: all, each accessory replaced on its own selected hosts only', () => {
  const targets = [target(redis), target(db), target(search, ['db1'])];
  const reboot = accessoryIntent('reboot', targets);
  assert.deepEqual(reboot.accessories, ['redis', 'db', 'search']);
  assert.deepEqual(reboot.replace, ['h1/accessory/redis', 'db1/accessory/db', 'db1/accessory/search']);
  for (const verb of CHANGE_VERBS) {
    const intent = accessoryIntent(verb, targets);
    assert.equal(intent.target, 'accessory', verb);
    assert.deepEqual(intent.accessories, ['redis', 'db', 'search'], verb);
    // only reboot replaces: boot never replaces a changed accessory
    assert.equal(intent.replace !== undefined, verb === 'reboot', verb);
    assert.equal(intent.skip, undefined, verb);
  }
});

test('resolveAccessories: a name, all, an unknown name (exit 64 naming the configured ones), a config without accessories', () => {
  assert.deepEqual(resolveAccessories(config, 'db'), [db]);
  assert.deepEqual(resolveAccessories(config, 'all'), [redis, db, search]);
  assert.throws(() => resolveAccessories(config, 'postgres'), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.exitCode, 64);
    assert.equal(error.message, 'unknown accessory "postgres" (configured: redis, db, search; or all)');
    return true;
  });
  // names are exact, as in the config
  assert.throws(() => resolveAccessories(config, 'Redis'), UsageError);
  assert.throws(() => resolveAccessories(makeConfig({ accessories: [] }), 'all'), /config\/deploy\.yml has no accessories: add them under accessories:/);
});

test('selectAccessoryHosts: an accessory’s own hosts, which need not carry a role', () => {
  assert.deepEqual(selectAccessoryHosts(config, [db], {}), [target(db)]);
  assert.deepEqual(selectAccessoryHosts(config, [redis, db, search], {}), [target(redis), target(db), target(search)]);
  assert.deepEqual(targetHosts(selectAccessoryHosts(config, [redis, db, search], {})), ['h1', 'db1', 'h2']);
});

test('selectAccessoryHosts: -h, -r and -p narrow; an accessory left without hosts is left out', () => {
  assert.deepEqual(selectAccessoryHosts(config, [db], { hosts: 'db1' }), [target(db)]);
  assert.deepEqual(selectAccessoryHosts(config, [redis, db, search], { hosts: 'db*' }), [target(db), target(search, ['db1'])]);
  assert.deepEqual(selectAccessoryHosts(config, [search], { hosts: 'h2,db1' }), [target(search)]);
  // -r: the hosts of those roles (db1 carries none)
  assert.deepEqual(selectAccessoryHosts(config, [redis, db, search], { roles: 'web' }), [target(redis), target(search, ['h2'])]);
  assert.deepEqual(selectAccessoryHosts(config, [redis, db, search], { roles: 'job' }), [target(redis)]);
  // -p: the primary host (h1)
  assert.deepEqual(selectAccessoryHosts(config, [redis, db, search], { primary: true }), [target(redis)]);
  // together: each narrows further
  assert.deepEqual(selectAccessoryHosts(config, [redis, search], { roles: 'web', hosts: 'h2' }), [target(search, ['h2'])]);
});

test('selectAccessoryHosts: a filter that leaves no host is a usage error naming the accessories’ hosts', () => {
  const refused = (accessories: AccessoryConfig[], filter: Parameters<typeof selectAccessoryHosts>[2], message: string) =>
    assert.throws(() => selectAccessoryHosts(config, accessories, filter), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.message, message);
      return true;
    });
  refused([db], { hosts: 'h1' }, 'no host of db matches --hosts "h1" (db runs on db1)');
  refused([db], { roles: 'web' }, 'no host of db matches --roles "web" (db runs on db1)');
  refused([db], { primary: true }, 'no host of db matches --primary (h1) (db runs on db1)');
  refused([redis, db], { hosts: 'h2' }, 'no host of redis, db matches --hosts "h2" (redis, db run on h1, db1)');
  refused([search], { hosts: 'h2', roles: 'job' }, 'no host of search matches --hosts "h2" and --roles "job" (search runs on h2, db1)');
  refused([redis], { roles: 'nope' }, 'no role matches --roles "nope" (roles: web, job)');
});

test('confirmQuestion: reboot and remove say what happens to the data, and end with a question mark', () => {
  assert.equal(confirmQuestion('reboot', [target(redis)]), 'Replace the redis container (down until the new one runs; data directories are kept) on these hosts?');
  assert.equal(confirmQuestion('remove', [target(redis)]), 'Remove the redis container and image (data directories and files are kept; --data deletes them) from these hosts?');
  assert.equal(confirmQuestion('remove', [target(redis), target(db)], { data: true }), 'Remove redis, db and DELETE their data (directories and files on the hosts; this cannot be undone) from these hosts?');
  for (const verb of ['reboot', 'remove'] as const) for (const data of [false, true]) assert.match(confirmQuestion(verb, [target(db)], { data }), /\?$/);
});

test('nextSteps: what is left after boot (a changed spec), remove (the data kept) and upload, said in full', () => {
  const plan = (steps: number, pending: Plan['pending']): Plan => ({ steps: Array.from({ length: steps }, () => ({}) as PlanStep), pending }) as unknown as Plan;
  const changed = { host: 'h1', address: 'h1/accessory/redis', cause: 'accessory redis: files /etc/redis.conf', command: 'mrsk accessory reboot redis' };
  const kept = { host: 'h1', address: 'h1/accessory/redis/data', cause: 'data of accessory redis kept: ~/.mrsk/app/accessories/redis', command: 'mrsk accessory remove redis --data' };
  assert.deepEqual(nextSteps('boot', 'redis', plan(0, [changed])), ['redis on h1 differs from the config (files /etc/redis.conf): `mrsk accessory reboot redis` replaces it (its data stays).']);
  assert.deepEqual(nextSteps('boot', 'redis', plan(0, undefined)), []);
  assert.deepEqual(nextSteps('remove', 'redis', plan(3, [kept])), [
    'Kept the data of redis on h1: ~/.mrsk/app/accessories/redis (`mrsk accessory boot redis` finds it again; `mrsk accessory remove redis --data` deletes it).',
  ]);
  // --data: nothing is kept, nothing is left to say
  assert.deepEqual(nextSteps('remove', 'redis', plan(4, undefined)), []);
  assert.deepEqual(nextSteps('upload', 'redis', plan(1, undefined)), ['The running container still sees the files it started with: `mrsk accessory reboot redis` replaces it on the new ones (its data stays).']);
  assert.deepEqual(nextSteps('upload', 'redis', plan(0, undefined)), []);
  for (const verb of ['reboot', 'start', 'stop', 'restart'] as const) assert.deepEqual(nextSteps(verb, 'redis', plan(1, [changed, kept])), [], verb);
});

test('the accessory container is named <service>-<name>, as Kamal names it, or by its service:', () => {
  assert.equal(accessoryContainerName(config, redis), 'app-redis');
  assert.equal(accessoryContainerName(config, { ...redis, service: 'cache' }), 'cache');
});

test('accessoryLogins: an accessory’s own registry, the app’s when the image lives there, none for a public image', () => {
  const password = new Secret('REGISTRY_PASSWORD', 'hunter2');
  const app = { server: 'registry.example.com', username: 'deploy', password };
  const own = { server: 'ghcr.io', username: 'bot', password: new Secret('GHCR_TOKEN', 'tok') };
  const withApp = makeConfig({ registry: app });
  assert.deepEqual(accessoryLogins(withApp, [redis]), []);
  assert.deepEqual(accessoryLogins(withApp, [{ ...redis, image: 'registry.example.com/acme/pg:16' }]), [app]);
  assert.deepEqual(accessoryLogins(withApp, [{ ...redis, image: 'ghcr.io/acme/pg:16', registry: own }]), [own]);
  // an own registry without a login is pulled as it is; each server once
  assert.deepEqual(accessoryLogins(withApp, [{ ...redis, registry: { server: 'ghcr.io' } }]), []);
  assert.deepEqual(accessoryLogins(withApp, [{ ...redis, registry: own }, { ...db, registry: own }, { ...search, image: 'registry.example.com/s:1' }]), [own, app]);
  // the app's registry without a password: nothing to log in with
  assert.deepEqual(accessoryLogins(makeConfig({ registry: { server: 'registry.example.com', username: 'deploy' } }), [{ ...redis, image: 'registry.example.com/x:1' }]), []);
});

function accessoryCommand(): Command {
  const root = addGlobalOptions(new Command('mrsk'));
  const bind: Bind = () => async () => undefined;
  register(root, bind);
  return root.commands.find((c) => c.name() === 'accessory')!;
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => void (text += s), writeErr: (s) => void (text += s) });
  command.outputHelp();
  return text;
}

test('mrsk accessory has the ten verbs, each taking NAME; the changing ones stream --json events; registered lazily', () => {
  const group = accessoryCommand();
  const verbs = group.commands.map((c) => c.name());
  assert.deepEqual(verbs, ['boot', 'reboot', 'start', 'stop', 'restart', 'remove', 'upload', 'details', 'logs', 'exec']);
  for (const verb of group.commands) assert.equal(verb.registeredArguments[0]?.name(), 'name', verb.name());
  for (const verb of CHANGE_VERBS) {
    assert.ok(EVENT_COMMANDS.has(`accessory ${verb}`), verb);
    const options = group.commands.find((c) => c.name() === verb)!.options.map((o) => o.long);
    assert.ok(options.includes('--lock-wait') && options.includes('--force'), `${verb}: ${options.join(' ')}`);
    assert.equal(options.includes('--auto-approve'), verb === 'reboot' || verb === 'remove', verb);
    assert.equal(options.includes('--data'), verb === 'remove', verb);
  }
  for (const verb of ['details', 'logs', 'exec']) assert.ok(!EVENT_COMMANDS.has(`accessory ${verb}`), verb);
  assert.ok(commandTable.some((entry) => entry.names.includes('accessory') && /commands\/accessory\/index\.ts/.test(entry.load.toString())));
});

test('help: remove says the data is kept unless --data; upload says what to do next; exec runs in the running container', () => {
  const group = accessoryCommand();
  const help = (verb: string) => helpOf(group.commands.find((c) => c.name() === verb)!).replace(/\s+/g, ' ');
  assert.match(help('remove'), /its data \(directories and files\) is KEPT unless --data \(shows the plan, asks first\)/);
  assert.match(help('remove'), /--data also DELETE the accessory’s data: its directories and files on the hosts \(cannot be undone\)/);
  assert.match(help('reboot'), /its data directories are kept \(shows the plan, asks first\)/);
  assert.match(help('upload'), /reboot it afterwards to run on them/);
  assert.match(help('exec'), /inside the running accessory container/);
  assert.match(help('logs'), /--follow/);
  assert.match(help('details'), /--json/);
});

// ---- the real bin, offline ----------------------------------------------------------------

const bin = fileURLToPath(new URL('../../../bin/mrsk.js', import.meta.url));

function mrsk(cwd: string, args: readonly string[]): Promise<Run> {
  return spawnCollect('unshare', ['-n', process.execPath, bin, ...args], { cwd, env: { PATH: process.env.PATH, HOME: cwd, NO_COLOR: '1' } });
}

/** A project whose config has accessories on addresses of a bed that is not there (no network anyway). */
async function project(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-accessory-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'config'));
  await writeFile(
    join(dir, 'config', 'deploy.yml'),
    [
      'service: shop',
      'image: acme/shop',
      'servers:',
      '  web: [10.231.250.11]',
      'registry:',
      '  server: 10.231.250.1:5000',
      'accessories:',
      '  redis:',
      '    image: redis:7',
      '    host: 10.231.250.11',
      '  db:',
      '    image: postgres:16',
      '    host: 10.231.250.21',
      '',
    ].join('\n'),
  );
  return dir;
}

test('the bin refuses an unknown name, a malformed option, exec on all, a host filter matching none: exit 64, nothing contacted', { timeout: 120_000 }, async (t) => {
  const dir = await project(t);
  const cases: [string[], string][] = [
    [['accessory', 'boot', 'postgres'], 'error: unknown accessory "postgres" (configured: redis, db; or all)\n'],
    [['accessory', 'remove', 'cache', '-y'], 'error: unknown accessory "cache" (configured: redis, db; or all)\n'],
    [['accessory', 'details', 'nope'], 'error: unknown accessory "nope" (configured: redis, db; or all)\n'],
    [['accessory', 'logs', 'redis', '--lines', 'ten'], 'error: --lines needs a whole number, got "ten"\n'],
    [['accessory', 'reboot', 'redis', '--lock-wait', 'soon'], 'error: --lock-wait needs a number of seconds (e.g. --lock-wait 30), got "soon"\n'],
    [['accessory', 'exec', 'all', 'ls'], 'error: accessory exec runs in one accessory: name it, e.g. mrsk accessory exec redis "redis-cli info"\n'],
    [['accessory', 'boot', 'db', '-h', '10.231.250.11'], 'error: no host of db matches --hosts "10.231.250.11" (db runs on 10.231.250.21)\n'],
  ];
  for (const [args, stderr] of cases) {
    const run = await mrsk(dir, args);
    assert.equal(run.code, 64, `mrsk ${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stderr, stderr, `mrsk ${args.join(' ')}`);
    assert.equal(run.stdout, '', `mrsk ${args.join(' ')}`);
  }
  // a missing NAME is commander's usage error
  const bare = await mrsk(dir, ['accessory', 'boot']);
  assert.equal(bare.code, 64, bare.stderr);
  assert.match(bare.stderr, /missing required argument 'name'/);
});
