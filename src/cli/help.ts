// Examples at the end of every `--help` page, in one table keyed by command path, so a new
// command without examples fails a test (test/unit/cli/help.test.ts) instead of going unnoticed.
import type { Command } from 'commander';

/** One example: the command line and what it does. */
type Example = readonly [line: string, what: string];

/** Examples per command path ('' is `mrsk` itself). Lines stay within 80 columns. */
export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  '': [
    ['mrsk init && mrsk config', 'start a config, then see how mrsk reads it'],
    ['mrsk plan --next && mrsk deploy', 'preview the next deploy, then run it'],
  ],
  init: [['mrsk init', 'write config/deploy.yml and .mrsk/secrets to edit']],
  config: [
    ['mrsk config', 'the merged config as YAML, secrets redacted'],
    ['mrsk config -d staging --json', 'with config/deploy.staging.yml merged in'],
  ],
  plan: [
    ['mrsk plan --next', 'what `mrsk deploy` would change (git HEAD)'],
    ['mrsk plan --detailed-exitcode', 'for cron/CI: exit 2 when hosts drifted'],
  ],
  apply: [
    ['mrsk apply', 'converge the hosts to the config (asks first)'],
    ['mrsk plan --out p.json && mrsk apply p.json', 'apply exactly what was reviewed'],
  ],
  deploy: [
    ['mrsk deploy', 'build, push and roll out git HEAD'],
    ['mrsk deploy --skip-push --version v42', 'roll out an image already pushed'],
  ],
  redeploy: [['mrsk redeploy', 'deploy again, skipping registry login and Traefik boot']],
  setup: [['mrsk setup', 'first time: Docker, registry login, Traefik, deploy']],
  rollback: [
    ['mrsk app containers', 'list the versions you can roll back to'],
    ['mrsk rollback 3c4d5e6f7a8b', 'switch back to that retained version'],
  ],
  prune: [['mrsk prune', 'remove containers and images beyond retain_containers']],
  remove: [['mrsk remove -y', 'remove the app, Traefik and the network from its hosts']],
  drift: [
    ['mrsk drift', 'compare the hosts with their recorded release'],
    ['mrsk drift --fix', 'restore what the last release recorded'],
  ],
  releases: [['mrsk releases', 'the release ledger of each host, current marked *']],
  app: [
    ['mrsk app containers', 'current and old containers, rollback targets'],
    ['mrsk app logs -f', 'follow the logs of every host'],
  ],
  'app exec': [
    ['mrsk app exec "bin/rails db:migrate:status"', 'in a new container, every host'],
    ['mrsk app exec -i --reuse sh', 'a shell inside the running container'],
  ],
  'app containers': [['mrsk app containers --json', 'full versions and ids, for scripts']],
  'app images': [['mrsk app images -h web-1', 'the app images on one host']],
  'app details': [['mrsk app details -r web', 'docker ps of the web role’s containers']],
  'app logs': [
    ['mrsk app logs -n 50 -g ERROR', 'the last 50 lines with ERROR, per host'],
    ['mrsk app logs -f -r web', 'follow the web role on every host'],
  ],
  'app start': [['mrsk app start', 'start the deployed version again after app stop']],
  'app stop': [['mrsk app stop -h web-2', 'stop the app on one host (Traefik stops routing)']],
  'app version': [['mrsk app version', 'the version running on each host']],
  traefik: [
    ['mrsk traefik details', 'the Traefik container on each host'],
    ['mrsk traefik reboot', 'replace Traefik host by host'],
  ],
  'traefik boot': [['mrsk traefik boot', 'run Traefik where it is missing']],
  'traefik reboot': [['mrsk traefik reboot', 'replace Traefik host by host, waiting for each']],
  'traefik start': [['mrsk traefik start', 'start a stopped Traefik container']],
  'traefik stop': [['mrsk traefik stop -h web-2', 'stop Traefik on one host']],
  'traefik restart': [['mrsk traefik restart', 'restart the Traefik container']],
  'traefik remove': [['mrsk traefik remove -y', 'remove the Traefik container (asks first; -y skips the question)']],
  'traefik logs': [['mrsk traefik logs -s 10m -g 502', 'the last 10 minutes, lines with 502']],
  'traefik details': [['mrsk traefik details --json', 'as JSON']],
  accessory: [
    ['mrsk accessory boot all', 'run every accessory where it is missing'],
    ['mrsk accessory details redis', 'the redis container on its hosts'],
  ],
  'accessory boot': [['mrsk accessory boot redis', 'run redis where it is missing or stopped']],
  'accessory reboot': [['mrsk accessory reboot redis', 'replace redis on the config (data kept)']],
  'accessory start': [['mrsk accessory start redis', 'start the stopped redis container']],
  'accessory stop': [['mrsk accessory stop redis', 'stop redis (its data stays)']],
  'accessory restart': [['mrsk accessory restart redis', 'restart the redis container']],
  'accessory remove': [
    ['mrsk accessory remove redis -y', 'container and image; the data stays'],
    ['mrsk accessory remove redis --data', 'also delete its directories and files'],
  ],
  'accessory upload': [['mrsk accessory upload db', "write db's files: to its hosts"]],
  'accessory details': [['mrsk accessory details all --json', 'every accessory, as JSON']],
  'accessory logs': [['mrsk accessory logs redis -f', 'follow the redis logs']],
  'accessory exec': [
    ['mrsk accessory exec redis "redis-cli info"', 'inside the running container'],
    ['mrsk accessory exec -i db psql', 'a psql session on this terminal'],
  ],
  registry: [['mrsk registry login', 'docker login here and on every host']],
  'registry login': [['mrsk registry login -L', 'log in on the hosts only']],
  'registry logout': [['mrsk registry logout', 'docker logout here and on every host']],
  lock: [['mrsk lock status', 'who holds the deploy lock, for what, until when']],
  'lock status': [['mrsk lock status --json', 'as JSON']],
  'lock acquire': [['mrsk lock acquire -m "db maintenance"', 'hold off deploys']],
  'lock release': [['mrsk lock release', 'let deploys run again']],
  audit: [['mrsk audit -n 20', 'the last 20 audit lines of each host']],
  details: [['mrsk details', 'Traefik and app containers on every host']],
  console: [['mrsk console', 'the console alias (aliases.console in the config)']],
  alias: [['mrsk alias migrate', 'run aliases.migrate from the config']],
};

/** A command's path from the root, without the root's name: `app exec`, `` for mrsk itself. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

/** The `Examples:` block of a help page. */
export function formatExamples(examples: readonly Example[]): string {
  const width = Math.max(...examples.map(([line]) => line.length));
  // Side by side when every example fits 80 columns so, else each comment under its line.
  const aligned = examples.every(([, what]) => 2 + width + 4 + what.length <= 80);
  const rows = examples.map(([line, what]) => (aligned ? `  ${line.padEnd(width)}  # ${what}` : `  ${line}\n      # ${what}`));
  return `\nExamples:\n${rows.join('\n')}\n`;
}

/** Adds the examples to every visible command's help; hidden commands (the alias catch-all) have none. */
export function addExamples(command: Command): void {
  const examples = EXAMPLES[commandPath(command)];
  if (examples) command.addHelpText('after', formatExamples(examples));
  for (const sub of command.commands) if (sub.name() !== '*') addExamples(sub);
}
