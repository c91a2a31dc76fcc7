import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPTURE_LIMIT_BYTES, FILE_LIMIT_BYTES, probeScript, SECTION_PATTERN } from '../../../src/probe/script.ts';
import { displayHostPath, hostPaths } from '../../../src/desired/paths.ts';
import { traefikFileName } from '../../../src/model/names.ts';
import { UNKNOWN_TRAEFIK_FILE_HASH } from '../../../src/probe/types.ts';

describe('probeScript', () => {
  it("reads that destination's lock and release (what it picks from the container listing: script-listing.test.ts)", () => {
    const script = probeScript('app', 'prod');
    assert.ok(script.includes('"$HOME"/.mrsk/app-prod/lock/holder.json'));
    assert.ok(script.includes('"$HOME"/.mrsk/app-prod/releases/current.json'));
    const withoutDestination = probeScript('app', undefined);
    assert.ok(!withoutDestination.includes('app-prod'));
    assert.ok(withoutDestination.includes('"$HOME"/.mrsk/app/lock/holder.json'));
  });

  it('quotes every config value, so a hostile service name stays one literal word', () => {
    const script = probeScript("we'ird $(touch /tmp/pwned)", 'x;y', { imageRepo: 'r/a`id`' });
    assert.ok(script.includes(`-v s='we'\\''ird $(touch /tmp/pwned)' -v d='x;y'`), script);
    assert.ok(script.includes(`printf '%s\\n' 'r/a\`id\`'`));
    // outside single-quoted words (and \' escapes), none of the hostile text appears
    const unquoted = script.replace(/'[^']*'|\\'/g, "''");
    assert.ok(!unquoted.includes('touch /tmp/pwned') && !unquoted.includes('`id`'));
  });

  it('only reads: no writes, removals, or redirections other than to /dev/null and between streams', () => {
    const script = probeScript('app', 'prod', { imageRepo: 'r/app' });
    const withoutQuoted = script.replace(/'[^']*'|\\'/g, "''");
    const redirections = withoutQuoted.replace(/2?>\/dev\/null|2>&1/g, '');
    assert.ok(!redirections.includes('>'), 'unexpected redirection');
    for (const word of ['rm ', 'mkdir', 'touch', 'mv ', 'docker run', 'docker rm', 'docker stop', 'docker network create', 'docker pull']) {
      assert.ok(!script.includes(word), `script must not run ${word}`);
    }
  });

  it('prints markers the parser recognises, and always ends with exit 0', () => {
    const script = probeScript('app', undefined);
    const names = [...script.matchAll(/section ([a-z-]+)/g)].map((m) => m[1]!);
    assert.deepEqual([...new Set(names)].sort(), [
      'apps', 'arch', 'containers', 'end', 'home', 'images', 'lock', 'networks', 'problem', 'problem-detail', 'release',
      'runtime', 'traefik-file', 'traefik-routers', 'traefik-services', 'version',
    ]);
    for (const name of names) assert.ok(SECTION_PATTERN.test(`@@mrsk-probe ${name}@@`));
    // read through the container, the routers' marker is printed inside it, between its two API answers
    assert.ok(script.includes(`'@@mrsk-probe traefik-routers@@'`), script);
    assert.ok(SECTION_PATTERN.test('@@mrsk-probe traefik-routers@@'));
    assert.ok(script.trimEnd().endsWith('exit 0'));
  });

  it('keeps at most 1 MiB of what a docker command prints into a variable, and never expands globs from it', () => {
    const script = probeScript('app', undefined, { imageRepo: 'r/app' });
    assert.ok(script.includes(`capped() { head -c ${CAPTURE_LIMIT_BYTES}; }`));
    assert.equal(CAPTURE_LIMIT_BYTES, 1024 * 1024);
    // every command substitution over docker output goes through capped (version, ids, repos, image ids, traefik)
    for (const line of script.split('\n').filter((l) => /=\$\(|"\$\(/.test(l) && l.includes('docker'))) assert.match(line, /\| capped/, line);
    assert.match(script, /^set -f$/m);
    assert.ok(script.includes(`head -c ${FILE_LIMIT_BYTES} "$HOME"/.mrsk/app/releases/current.json`));
  });

  it('lists images of the configured repository only when given', () => {
    assert.ok(probeScript('app', undefined, { imageRepo: 'r/acme/app' }).includes("printf '%s\\n' r/acme/app"));
    assert.ok(!probeScript('app', undefined).includes("printf '%s\\n' r/"));
  });
});

describe('host state paths', () => {
  it('print as ~/… with one slash between parts', () => {
    assert.equal(displayHostPath(hostPaths('app').currentRelease), '~/.mrsk/app/releases/current.json');
    assert.equal(displayHostPath('.mrsk//releases/current.json'), '~/.mrsk/releases/current.json');
    assert.equal(displayHostPath('/srv//data'), '/srv/data');
  });

  it('keep service and destination apart', () => {
    assert.equal(hostPaths('app').root, '.mrsk/app');
    assert.equal(hostPaths('app', 'prod').root, '.mrsk/app-prod');
    assert.equal(hostPaths('app', 'prod').lockDir, '.mrsk/app-prod/lock');
    assert.equal(hostPaths('app', 'prod').lockHolder, '.mrsk/app-prod/lock/holder.json');
    assert.equal(hostPaths('app').currentRelease, '.mrsk/app/releases/current.json');
  });
});

describe('probeScript run against a stand-in docker', () => {
  it("reads only the first line of the app's Traefik file, and only when it is mrsk's hash line", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, chmodSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { execFileSync } = await import('node:child_process');
    const { parseProbeOutput } = await import('../../../src/probe/parse.ts');
    const dir = mkdtempSync(join(tmpdir(), 'mrsk-probe-file-'));
    writeFileSync(join(dir, 'docker'), ['#!/bin/sh', 'case "$*" in', '  "version "*) echo 27.0.1 ;;', 'esac'].join('\n'));
    chmodSync(join(dir, 'docker'), 0o755);
    const dynamic = join(dir, '.mrsk', 'traefik', 'dynamic');
    mkdirSync(dynamic, { recursive: true });
    const probe = (destination?: string) => {
      const output = execFileSync('sh', ['-c', probeScript('app', destination)], { env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir }, encoding: 'utf8' });
      const host = parseProbeOutput('h1', output, 'app', destination);
      assert.equal(host.status, 'ok', output);
      return { output, hash: (host as { traefikFileHash?: string }).traefikFileHash };
    };
    assert.equal(probe().hash, undefined, 'no file');
    const hash = `v1:${'ab'.repeat(32)}`;
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7secret\n-----END PRIVATE KEY-----';
    writeFileSync(join(dynamic, 'app.yml'), `# mrsk ${hash}\n# Written by mrsk\ntls:\n  certificates:\n    - keyFile: |\n${key}\n`, { mode: 0o600 });
    const read = probe();
    assert.equal(read.hash, hash);
    assert.ok(!read.output.includes('PRIVATE KEY') && !read.output.includes('tls:'), 'only the hash line leaves the host');
    assert.equal(probe('prod').hash, undefined, "another destination's file is app-prod.yml");
    // a file edited by hand, its key first: known to be there, its text never printed
    writeFileSync(join(dynamic, 'app.yml'), `${key}\n# mrsk ${hash}\n`);
    const edited = probe();
    assert.equal(edited.hash, UNKNOWN_TRAEFIK_FILE_HASH);
    assert.ok(!edited.output.includes('secret'), edited.output);
    writeFileSync(join(dynamic, 'app.yml'), '');
    assert.equal(probe().hash, UNKNOWN_TRAEFIK_FILE_HASH, 'an empty file');
    writeFileSync(join(dynamic, 'app-prod.yml'), `# mrsk ${hash}\n`);
    assert.equal(probe('prod').hash, hash);
  });

  it('names the file after the service and destination, as the plan writes it', () => {
    assert.equal(traefikFileName('app'), 'app.yml');
    assert.equal(traefikFileName('app', 'prod'), 'app-prod.yml');
    assert.ok(probeScript('app', 'prod').includes(`"$HOME"/.mrsk/traefik/dynamic/app-prod.yml`));
  });
});
