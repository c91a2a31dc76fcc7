// Every broken file in fixtures/configs/invalid/ and the exact message a user gets for it.
// Messages are the product here: a change to any of them should be a deliberate one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';

const invalidDir = fileURLToPath(new URL('../../../fixtures/configs/invalid/', import.meta.url));

/** [fixture file, ...the lines of the error message]. Loaded with an empty environment. */
const expectations: readonly (readonly string[])[] = [
  [
    'accessory-no-host.yml',
    'accessory-no-host.yml:6:5 accessories.db: needs one of host, hosts, role, roles, tag or tags',
  ],
  [
    'accessory-missing-file.yml',
    'accessory-missing-file.yml:9:9 accessories.redis.files[0]: local file config/redis.conf is missing (relative to the project root: the folder mrsk runs in)',
  ],
  [
    'accessory-traefik-port.yml',
    'accessory-traefik-port.yml:8:11 accessories.web-cache.port: host port 80 is Traefik\'s HTTP port on 10.0.0.1; publish the accessory on another host port (e.g. "10080:80")',
  ],
  [
    'accessory-unknown-role.yml',
    'accessory-unknown-role.yml:7:18 accessories.cache.roles[1]: unknown role "workers" (roles: web)',
  ],
  [
    'accessory-unknown-tag.yml',
    'accessory-unknown-tag.yml:10:10 accessories.db.tag: no host of any role carries tag "database", so the accessory would run nowhere (tag hosts in servers: - 10.0.0.1: database)',
  ],
  [
    'alias-bomb.yml',
    'alias-bomb.yml: cannot be read as data: Excessive alias count indicates a resource exhaustion attack',
  ],
  [
    'bad-duration.yml',
    'bad-duration.yml:4:16 drain_timeout: must be seconds, or a duration like "30s", "2m", "1h"',
  ],
  [
    'bad-interpolation.yml',
    'bad-interpolation.yml:5:11 env.BROKEN: invalid interpolation "${NOT VALID}" (supported: ${VAR}, ${VAR:-default}, ${VAR:?message}; "$$" for a literal "$")',
    'bad-interpolation.yml:6:9 env.OPEN: unterminated "${" (write "$$" for a literal "$")',
  ],
  [
    'binary.yml',
    'binary.yml: is not a text file (binary or not UTF-8); a config file is YAML text',
  ],
  [
    'boot-limit-percent.yml',
    'boot-limit-percent.yml:5:10 boot.limit: must be a percentage from 1% to 100%',
  ],
  [
    'boot-parallel-roles.yml',
    'boot-parallel-roles.yml:5:19 boot.parallel_roles: must be true or false',
  ],
  [
    'comments-only.yml',
    'comments-only.yml: file is empty; run "mrsk init" for a commented example',
  ],
  [
    'duplicate-host.yml',
    'duplicate-host.yml:7:7 servers.web[2]: host 10.0.0.1 is listed twice in role web',
  ],
  [
    'empty.yml',
    'empty.yml: file is empty; run "mrsk init" for a commented example',
  ],
  [
    'env-clear-and-flat.yml',
    'env-clear-and-flat.yml:7:3 env.RAILS_ENV: unknown key, allowed keys: clear, secret, tags',
  ],
  [
    'env-secret-name.yml',
    'env-secret-name.yml:6:5 env.clear.app-mode: invalid name: must be a variable name (letters, digits, \'_\', not starting with a digit)',
    'env-secret-name.yml:8:7 env.secret[0]: must be a variable name, or NAME:SECRET_NAME',
  ],
  [
    'erb-block.yml',
    'erb-block.yml:4:1: ERB block <% if ENV["STAGING"] %> is not supported: mrsk does not run Ruby; use ${VAR} interpolation in values, or a destination file (deploy.<destination>.yml) for settings that differ per environment',
    'erb-block.yml:6:1: ERB block <% end %> is not supported: mrsk does not run Ruby; use ${VAR} interpolation in values, or a destination file (deploy.<destination>.yml) for settings that differ per environment',
  ],
  [
    'erb-rails-credentials.yml',
    'erb-rails-credentials.yml:8:13 registry.username: unsupported ERB <%= Rails.application.credentials.registry["username"] %>: mrsk does not run Ruby; supported are <%= ENV["X"] %>, <%= ENV[\'X\'] %>, <%= ENV.fetch("X") %>, <%= ENV.fetch("X", "default") %>; use ${REGISTRY_USERNAME} and set REGISTRY_USERNAME in the environment or .mrsk/secrets',
    'erb-rails-credentials.yml:9:13 registry.password: unsupported ERB <%= Rails.application.credentials.registry["password"] %>: mrsk does not run Ruby; supported are <%= ENV["X"] %>, <%= ENV[\'X\'] %>, <%= ENV.fetch("X") %>, <%= ENV.fetch("X", "default") %>; use ${REGISTRY_PASSWORD} and set REGISTRY_PASSWORD in the environment or .mrsk/secrets',
  ],
  [
    'host-not-string.yml',
    'host-not-string.yml:8:9 servers.web.hosts[1]: must be a host, or host: tag, or host: [tags]',
  ],
  [
    'image-with-tag.yml',
    'image-with-tag.yml:2:8 image: must be an image repository without a tag, like "acme/app" or "registry.example.com/acme/app"',
  ],
  [
    'invalid-host.yml',
    'invalid-host.yml:4:5 servers[0]: must be a hostname or IP address',
    'invalid-host.yml:5:5 servers[1]: must be a hostname or IP address',
    'invalid-host.yml:6:5 servers[2]: must be a hostname or IP address',
  ],
  [
    'kamal-proxy.yml',
    'kamal-proxy.yml:7:20 proxy.forward_headers: true has no per-app Traefik equivalent: Traefik trusts incoming X-Forwarded-* headers per entrypoint, for every app on the host; set traefik.args entrypoints.web.forwardedheaders.trustedips (and websecure) instead',
    'kamal-proxy.yml:8:3 proxy.logging: has no per-app Traefik equivalent: Traefik\'s access log and the headers it records are set for every app on the host; use traefik.args accesslog: true and accesslog.fields.headers.names.<Header>: keep',
    'kamal-proxy.yml:12:5 proxy.run.metrics_port: a kamal-proxy setting with no Traefik equivalent: enable Traefik metrics with traefik.args (metrics.prometheus: true)',
  ],
  [
    'proxy-rules.yml',
    'proxy-rules.yml:8:7 servers.web.proxy: give host or hosts, not both',
    'proxy-rules.yml:13:13 servers.api.proxy.host: *.example.com: wildcard hosts are not supported (Traefik\'s Host rule matches exact names); list the names',
    'proxy-rules.yml:15:19 servers.api.proxy.buffering.requests: Traefik\'s buffering middleware buffers requests and responses together: set requests and responses alike',
    'proxy-rules.yml:19:12 servers.admin.proxy.ssl: ssl needs host or hosts: a certificate names the hosts it is for (Kamal\'s rule)',
  ],
  [
    'many-problems.yml',
    'many-problems.yml:2:10 service: must be letters, digits, \'_\', \'.\' or \'-\', starting with a letter or digit',
    'many-problems.yml:9:10 servers.job.cmd: must be a string or a list',
    'many-problems.yml:12:3 healthcheck.max_attemps: unknown key, did you mean "max_attempts"?',
    'many-problems.yml:13:20 retain_containers: must be >= 1',
    'many-problems.yml:16:9 ssh.port: must be >= 1',
  ],
  [
    'missing-image.yml',
    'missing-image.yml:1:1: missing required key "image" (it may be left out only with a local registry, registry.server: localhost:PORT, where it is the service name)',
  ],
  [
    'missing-secret.yml',
    'missing-secret.yml:6:7 env.secret[0]: secret DATABASE_PASSWORD is not set; looked in .mrsk/secrets (not found), the environment',
  ],
  [
    'port-out-of-range.yml',
    'port-out-of-range.yml:5:9 healthcheck.port: must be <= 65535',
  ],
  [
    'primary-role-missing.yml',
    'primary-role-missing.yml:4:3 servers: primary role "web" is not one of the roles (api, job); set primary_role',
  ],
  [
    'registry-password-list.yml',
    'registry-password-list.yml:6:13 registry.password: must be a one-element list naming a secret, like [MRSK_REGISTRY_PASSWORD]',
  ],
  [
    'required-variable.yml',
    'required-variable.yml:5:11 env.REGION: environment variable REGION is not set: set REGION to the cloud region',
  ],
  [
    'role-hosts-string.yml',
    'role-hosts-string.yml:4:8 servers.web: must be a list or a map',
  ],
  [
    'role-name-uppercase.yml',
    'role-name-uppercase.yml:4:3 servers.Web: role names must be lower-case letters, digits, \'_\', \'.\' or \'-\', starting with a letter or digit',
  ],
  [
    'role-unknown-key.yml',
    'role-unknown-key.yml:7:5 servers.job.comand: unknown key, did you mean "cmd"?',
  ],
  [
    'servers-empty.yml',
    'servers-empty.yml:3:10 servers: must not be empty',
  ],
  [
    'strict-host-key-checking.yml',
    'strict-host-key-checking.yml:5:29 ssh.strict_host_key_checking: must be accept-new, true or false',
  ],
  [
    'top-level-list.yml',
    'top-level-list.yml:1:1: must be a map',
  ],
  [
    'unknown-key.yml',
    'unknown-key.yml:5:1 helthcheck: unknown key, did you mean "healthcheck"?',
  ],
  [
    'unset-variable.yml',
    'unset-variable.yml:5:17 env.DATABASE_URL: environment variable DB_HOST is not set (set it, or give a default: ${DB_HOST:-default})',
  ],
  [
    'volume-format.yml',
    'volume-format.yml:5:5 volumes[0]: must be host-path:container-path[:options], or a container path (an anonymous volume)',
  ],
  [
    'yaml-bad-indent.yml',
    'yaml-bad-indent.yml:5:1: YAML syntax error: All mapping items must start at the same column',
  ],
  [
    'yaml-duplicate-key.yml',
    'yaml-duplicate-key.yml:4:1: YAML syntax error: Map keys must be unique',
  ],
  [
    'yaml-tab-indent.yml',
    'yaml-tab-indent.yml:4:1: YAML syntax error: Tabs are not allowed as indentation',
  ],
];

test('there are at least 25 invalid fixtures and each has an expectation', () => {
  const files = readdirSync(invalidDir).sort();
  assert.ok(files.length >= 25, `only ${files.length} invalid fixtures`);
  assert.deepEqual(files, expectations.map(([file]) => file).sort());
});

for (const [file, ...lines] of expectations) {
  test(`invalid fixture ${file} fails with its exact message (exit 78)`, async () => {
    await assert.rejects(loadConfig({ file: file!, cwd: invalidDir, env: {} }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.equal(error.exitCode, 78);
      assert.equal(error.message, lines.join('\n'));
      return true;
    });
  });
}
