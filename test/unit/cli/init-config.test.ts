// `mrsk init` and `mrsk config` through the real bin: stdout, stderr, exit codes, files written,
// and no secret value in any output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { splitCommandLine } from '../../../src/ops/aliases.ts';
import { spawnCollect, type Run } from '../../helpers/spawn-collect.ts';

const bin = fileURLToPath(new URL('../../../bin/mrsk.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../../fixtures/configs/', import.meta.url));


/** Runs `node bin/mrsk.js ...args` in cwd with only the given environment (plus PATH). */
function mrsk(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return spawnCollect(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env.PATH, NO_COLOR: '1', ...env } });
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('init then config in an empty folder', async (t) => {
  const dir = await tempDir(t);
  const init = await mrsk(dir, ['init']);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(init.stderr, '');
  assert.equal(
    init.stdout,
    [
      'created config/deploy.yml',
      'created .mrsk/secrets (replace the placeholders; it is never committed)',
      'added .mrsk/secrets* to .gitignore',
      'next: replace the placeholders in config/deploy.yml and .mrsk/secrets, check them with `mrsk config`, then run `mrsk plan` and `mrsk deploy`',
      '',
    ].join('\n'),
  );
  assert.equal(await readFile(join(dir, '.gitignore'), 'utf8'), '.mrsk/secrets*\n');
  assert.equal((await stat(join(dir, '.mrsk/secrets'))).mode & 0o777, 0o600);
  assert.match(await readFile(join(dir, 'config/deploy.yml'), 'utf8'), /^# /m);

  const config = await mrsk(dir, ['config']);
  assert.equal(config.code, 0, config.stderr);
  assert.equal(config.stderr, '');
  const printed = parse(config.stdout) as Record<string, any>;
  assert.equal(printed.service, 'my-app');
  assert.equal(printed.primary_host, '192.0.2.1');
  assert.equal(printed.registry.password, '[REDACTED]');
  assert.deepEqual(printed.aliases, { console: 'app exec --interactive --reuse sh', logs: 'app logs --follow' });
  assert.equal(printed.healthcheck.max_attempts, 3);
  assert.ok(!config.stdout.includes('change-me'), 'placeholder secret values are not printed');
});

/** The template text with its placeholders replaced, as a user would after `mrsk init`. */
function fillPlaceholders(text: string): string {
  return text.replaceAll('192.0.2.', '10.1.2.').replaceAll('my-user', 'acme').replaceAll('change-me', 'a-real-token-4f1c');
}

/** Uncomments the commented YAML examples (`# key: value`, `#   - item`), keeping their indentation. */
function uncommentExamples(text: string): string {
  return text.replace(/^(\s*)# (\s*(?:(?:[a-z_][a-z0-9_]*|[A-Z][A-Z0-9_]*):(?: |$)|- ))/gm, '$1$2');
}

test('the template with its placeholders replaced validates, and so does every commented example in it', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await mrsk(dir, ['init', '--quiet'])).code, 0);
  const template = await readFile(join(dir, 'config/deploy.yml'), 'utf8');
  const secrets = await readFile(join(dir, '.mrsk/secrets'), 'utf8');
  await writeFile(join(dir, '.mrsk/secrets'), fillPlaceholders(secrets));

  await writeFile(join(dir, 'config/deploy.yml'), fillPlaceholders(template));
  const filled = await mrsk(dir, ['config', '--json']);
  assert.equal(filled.code, 0, filled.stderr);
  const config = JSON.parse(filled.stdout) as Record<string, any>;
  assert.deepEqual(config.hosts, ['10.1.2.1']);
  assert.equal(config.image, 'acme/my-app');
  assert.equal(config.healthcheck.port, 3000);
  assert.equal(config.traefik.image, 'traefik:v3.6');

  const everything = uncommentExamples(fillPlaceholders(template));
  const uncommented = everything.split('\n').filter((line, i) => line !== fillPlaceholders(template).split('\n')[i]);
  assert.ok(uncommented.length >= 15, `the examples were uncommented:\n${uncommented.join('\n')}`);
  await writeFile(join(dir, 'config/deploy.yml'), everything);
  await writeFile(join(dir, '.mrsk/secrets'), fillPlaceholders(secrets).replace(/^# ([A-Z][A-Z0-9_]*=)/gm, '$1'));
  const all = await mrsk(dir, ['config', '--json']);
  assert.equal(all.code, 0, `${all.stderr}\n${everything}`);
  const full = JSON.parse(all.stdout) as Record<string, any>;
  // the commented examples named what everyone needs
  assert.deepEqual(full.builder.arch, ['amd64']);
  assert.match(full.builder.remote, /^ssh:\/\//);
  assert.ok(full.ssh.keys.length === 1);
  assert.deepEqual(full.roles.map((role: { name: string }) => role.name), ['web', 'job']);
});

/** Command names listed under "Commands:" in a help text. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^  ([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

test('the template mentions only commands that exist, and its aliases use existing options', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await mrsk(dir, ['init', '--quiet'])).code, 0);
  const texts = [await readFile(join(dir, 'config/deploy.yml'), 'utf8'), await readFile(join(dir, '.mrsk/secrets'), 'utf8')].join('\n');
  const top = commandsIn((await mrsk(dir, ['--help'])).stdout);
  assert.ok(top.includes('deploy') && top.includes('app'), top.join(' '));
  const subcommands = async (name: string) => commandsIn((await mrsk(dir, [name, '--help'])).stdout);

  // `mrsk word …` in backquotes, and the overview lines "#   mrsk word   what it does"
  const mentioned = [...texts.matchAll(/`mrsk ([^`]+)`/g), ...texts.matchAll(/^#\s+mrsk ([a-z]+)\s{2,}/gm)].map((m) => m[1]!);
  assert.ok(mentioned.length >= 6, mentioned.join(', '));
  const aliases = Object.keys((parse(await readFile(join(dir, 'config/deploy.yml'), 'utf8')) as { aliases: Record<string, string> }).aliases);
  for (const mention of mentioned) {
    const [first, second] = mention.split(' ');
    if (/^[A-Z]/.test(first!) || first!.startsWith('-')) continue; // `mrsk NAME`, `mrsk -d <destination>`
    assert.ok(top.includes(first!) || aliases.includes(first!), `mrsk ${mention}: no command ${first}`);
    const nested = top.includes(first!) ? await subcommands(first!) : [];
    if (nested.length > 0 && second && /^[a-z]+$/.test(second)) assert.ok(nested.includes(second), `mrsk ${mention}: no command ${first} ${second}`);
  }

  for (const [name, line] of Object.entries((parse(await readFile(join(dir, 'config/deploy.yml'), 'utf8')) as { aliases: Record<string, string> }).aliases)) {
    const words = splitCommandLine(line);
    let path: string[] = [];
    let commands = top;
    while (words.length > 0 && commands.includes(words[0]!)) {
      path = [...path, words.shift()!];
      commands = await subcommands(path.join(' ')).catch(() => []);
      if (commands.length === 0) break;
    }
    assert.ok(path.length > 0, `alias ${name} (${line}) starts with a command`);
    const help = (await mrsk(dir, [...path, '--help'])).stdout;
    for (const option of words.filter((word) => word.startsWith('-'))) {
      assert.ok(new RegExp(`(^|[ ,])${option}[ ,]`, 'm').test(help), `alias ${name}: mrsk ${path.join(' ')} has no option ${option}`);
    }
  }
});

test('init refuses to overwrite without --force (exit 1) and never duplicates the .gitignore line', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, '.gitignore'), 'node_modules/');
  assert.equal((await mrsk(dir, ['init'])).code, 0);
  await writeFile(join(dir, 'config/deploy.yml'), 'service: mine\n');

  const again = await mrsk(dir, ['init']);
  assert.equal(again.code, 1);
  assert.equal(again.stdout, '');
  assert.equal(again.stderr, 'error: config/deploy.yml and .mrsk/secrets already exist; use --force to overwrite\n');
  assert.equal(await readFile(join(dir, 'config/deploy.yml'), 'utf8'), 'service: mine\n');

  const forced = await mrsk(dir, ['init', '--force', '--quiet']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /^next: [^\n]*\n$/, '--quiet prints only the final line');
  assert.match(await readFile(join(dir, 'config/deploy.yml'), 'utf8'), /service: my-app/);
  assert.equal(await readFile(join(dir, '.gitignore'), 'utf8'), 'node_modules/\n.mrsk/secrets*\n');
});

test('usage errors exit 64; --help exits 0', async (t) => {
  const dir = await tempDir(t);
  const unknownOption = await mrsk(dir, ['config', '--bogus']);
  assert.equal(unknownOption.code, 64);
  assert.match(unknownOption.stderr, /unknown option '--bogus'/);
  const unknownCommand = await mrsk(dir, ['confg']);
  assert.equal(unknownCommand.code, 64);
  assert.match(unknownCommand.stderr, /Did you mean config\?/);
  const help = await mrsk(dir, ['config', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--json/);
});

test('config errors exit 78 with every diagnostic on stderr and nothing on stdout', async (t) => {
  const result = await mrsk(join(fixtures, 'invalid'), ['config', '-c', 'many-problems.yml']);
  assert.equal(result.code, 78);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr,
    [
      "error: many-problems.yml:2:10 service: must be letters, digits, '_', '.' or '-', starting with a letter or digit",
      'error: many-problems.yml:9:10 servers.job.cmd: must be a string or a list',
      'error: many-problems.yml:12:3 healthcheck.max_attemps: unknown key, did you mean "max_attempts"?',
      'error: many-problems.yml:13:20 retain_containers: must be >= 1',
      'error: many-problems.yml:16:9 ssh.port: must be >= 1',
      '',
    ].join('\n'),
  );
  const missing = await mrsk(await tempDir(t), ['config']);
  assert.equal(missing.code, 78);
  assert.equal(missing.stderr, 'error: config/deploy.yml: file not found (run "mrsk init" to create one, or pass -c <file>)\n');
});

test('config -d prints the merged destination; --json prints the same data as JSON', async () => {
  const cwd = join(fixtures, 'destinations');
  const yaml = await mrsk(cwd, ['config', '-d', 'production']);
  assert.equal(yaml.code, 0, yaml.stderr);
  const fromYaml = parse(yaml.stdout) as Record<string, any>;
  assert.equal(fromYaml.destination, 'production');
  assert.deepEqual(fromYaml.roles.map((role: { name: string }) => role.name), ['web', 'worker']);
  assert.deepEqual(fromYaml.boot, { limit: 2, wait: 10, parallel_roles: false });
  const json = await mrsk(cwd, ['config', '-d', 'production', '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), fromYaml);
});

test('no secret value appears in any output of mrsk config, including --json and errors', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'config'));
  await mkdir(join(dir, '.mrsk'));
  const values = {
    fromEnv: 'env-secret-value-8f3a',
    fromFile: 'file-secret-value-91c2',
    fromDestinationFile: 'staging-secret-value-77d0',
    registry: 'registry-secret-value-5b1e',
    builder: 'builder-secret-value-c4d9',
    inlinePassword: 'inline-password-value-0aa1',
  };
  await writeFile(
    join(dir, 'config/deploy.yml'),
    `service: app
image: acme/app
servers:
  web: [10.0.0.1]
  job:
    hosts: [10.0.0.2]
    env:
      secret: [JOB_TOKEN]
registry:
  username: me
  password: [REGISTRY_PASSWORD]
env:
  clear:
    MODE: production
  secret: [DATABASE_URL, API_KEY]
builder:
  secrets: [NPM_TOKEN]
`,
  );
  await writeFile(join(dir, 'config/deploy.staging.yml'), 'registry:\n  password: ${INLINE_PASSWORD}\n');
  await writeFile(join(dir, 'config/deploy.broken.yml'), 'helthcheck: {}\nservers:\n  - 10.0.0.300\n');
  await writeFile(join(dir, '.mrsk/secrets'), `DATABASE_URL=${values.fromFile}\nAPI_KEY=overridden-by-env\nREGISTRY_PASSWORD="${values.registry}"\nNPM_TOKEN='${values.builder}'\n`);
  await writeFile(join(dir, '.mrsk/secrets.staging'), `JOB_TOKEN=${values.fromDestinationFile}\n`);
  await writeFile(join(dir, 'config/deploy.badsecrets.yml'), 'labels: {}\n');
  await writeFile(join(dir, '.mrsk/secrets.badsecrets'), `JOB_TOKEN=${values.fromDestinationFile}\nnot valid ${values.fromDestinationFile}\nB="${values.fromDestinationFile}\n`);
  const env = { API_KEY: values.fromEnv, INLINE_PASSWORD: values.inlinePassword };

  const runs = {
    staging: await mrsk(dir, ['config', '-d', 'staging'], env),
    stagingJson: await mrsk(dir, ['config', '-d', 'staging', '--json'], env),
    stagingVerbose: await mrsk(dir, ['config', '-d', 'staging', '--verbose'], env),
    // no destination: JOB_TOKEN exists only in .mrsk/secrets.staging → a missing-secret error
    missingSecret: await mrsk(dir, ['config'], env),
    schemaError: await mrsk(dir, ['config', '-d', 'broken', '--json'], env),
    badSecretsFile: await mrsk(dir, ['config', '-d', 'badsecrets', '--verbose'], env),
  };
  assert.equal(runs.staging.code, 0, runs.staging.stderr);
  assert.equal(runs.stagingJson.code, 0, runs.stagingJson.stderr);
  assert.equal(runs.stagingVerbose.code, 0, runs.stagingVerbose.stderr);
  assert.equal(runs.missingSecret.code, 78);
  assert.equal(runs.missingSecret.stderr, 'error: config/deploy.yml:8:16 servers.job.env.secret[0]: secret JOB_TOKEN is not set; looked in .mrsk/secrets, the environment\n');
  assert.equal(runs.schemaError.code, 78);
  assert.match(runs.schemaError.stderr, /helthcheck: unknown key, did you mean "healthcheck"\?/);
  assert.equal(runs.badSecretsFile.code, 78);
  assert.equal(
    runs.badSecretsFile.stderr,
    'error: .mrsk/secrets.badsecrets:2:1: expected NAME=value\nerror: .mrsk/secrets.badsecrets:3:1: unterminated double quote in B\n',
  );

  const printed = JSON.parse(runs.stagingJson.stdout) as Record<string, any>;
  assert.deepEqual(printed.roles[1].env.secret, { DATABASE_URL: '[REDACTED]', API_KEY: '[REDACTED]', JOB_TOKEN: '[REDACTED]' });
  assert.equal(printed.registry.password, '[REDACTED]');
  assert.deepEqual(printed.builder.secrets, { NPM_TOKEN: '[REDACTED]' });
  for (const [name, run] of Object.entries(runs)) {
    for (const value of Object.values(values)) {
      assert.ok(!run.stdout.includes(value) && !run.stderr.includes(value), `${name} printed the secret ${value}`);
    }
  }
});
