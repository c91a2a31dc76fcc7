// The e2e configs pointed at the bed's hosts, for benches: the Docker one with every Docker host of
// the bed in the web role (the fixture names two; boot.parallel_roles on request), the Podman one
// with the bed's first Podman host.
// BENCH_THROTTLE=100ms sets Traefik's providers.providersThrottleDuration through traefik.args
// (mrsk's default is 500ms), to measure what that setting changes.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { deployConfig, repoRoot, type Bed } from '../test/e2e/harness.ts';

async function withWebHosts(source: string, hosts: readonly string[], options: { parallelRoles?: boolean } = {}): Promise<string> {
  const doc = parseDocument(await readFile(source, 'utf8'));
  doc.setIn(['servers', 'web'], [...hosts]);
  if (options.parallelRoles) doc.setIn(['boot', 'parallel_roles'], true);
  if (process.env.BENCH_THROTTLE) doc.setIn(['traefik', 'args', 'providers.providersThrottleDuration'], process.env.BENCH_THROTTLE);
  const file = join(await mkdtemp(join(tmpdir(), 'mrsk-bench-')), 'deploy.yml');
  await writeFile(file, doc.toString());
  return file;
}

/** The Docker hosts of the bed (bed.hosts lists the Podman ones too). */
export function dockerHosts(bed: Bed): string[] {
  return bed.hosts.filter((h) => !bed.podmanHosts.includes(h));
}

/** The e2e config on every Docker host; parallelRoles sets boot.parallel_roles. */
export function benchConfig(bed: Bed, options: { parallelRoles?: boolean } = {}): Promise<string> {
  return withWebHosts(deployConfig, dockerHosts(bed), options);
}

/** fixtures/e2e/podman.yml (runtime: podman) on the bed's first Podman host. */
export function podmanBenchConfig(bed: Bed): Promise<string> {
  return withWebHosts(join(repoRoot, 'fixtures', 'e2e', 'podman.yml'), bed.podmanHosts.slice(0, 1));
}
