// The e2e config with every host of the bed in the web role (the fixture names two), for benches.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { deployConfig, type Bed } from '../test/e2e/harness.ts';

export async function benchConfig(bed: Bed): Promise<string> {
  const doc = parseDocument(await readFile(deployConfig, 'utf8'));
  doc.setIn(['servers', 'web'], [...bed.hosts]);
  const file = join(await mkdtemp(join(tmpdir(), 'mrsk-bench-')), 'deploy.yml');
  await writeFile(file, doc.toString());
  return file;
}
