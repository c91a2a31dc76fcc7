// The steps of an accessory (a database or cache beside the app): its files and folders, its
// container, and the deletion of its data on request.
import { DeployError, StalePlanError } from '../errors.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as runtime from '../runtime/index.ts';
import { runAccessory } from '../runtime/accessory.ts';
import { SPEC_HASH_LABEL } from '../model/labels.ts';
import { shq } from '../shell/quote.ts';
import { redact } from '../secret.ts';
import { absoluteOnHost, hostPaths } from '../desired/paths.ts';
import { inspectContainer, run, runtimeOf, tryRun } from './remote.ts';
import { homeOf, escapeEnvFileValue, makeBindSources, lastLineOf, type Handler } from './step-kit.ts';

/**
 * An accessory's folders and files. Each file is read from the project when the step runs and
 * must still have the hash the plan was made with (the plan showed that content as the change);
 * it is uploaded as data (never on a command line), then given its mode and owner.
 */
export const accessoryPrepare: Handler<'accessory-prepare'> = async (ctx, step, action) => {
  const home = homeOf(ctx, step.host);
  const folders = [...action.directories, ...action.files.map((file) => file.hostPath.replace(/\/[^/]*$/, ''))].map((dir) => absoluteOnHost(home, dir));
  if (folders.length > 0) await run(ctx, step.host, { script: `mkdir -p ${[...new Set(folders)].map(shq).join(' ')}` });
  for (const file of action.files) {
    let content: Buffer;
    try {
      content = await readFile(file.localPath);
    } catch (error) {
      throw new DeployError(`${step.host}: cannot read ${file.localPath} for accessory ${action.name} (${lastLineOf(error)}); nothing of it was uploaded`);
    }
    const hash = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    if (hash !== file.hash) throw new StalePlanError(`${step.host}: ${file.localPath} changed since the plan was made; re-run plan`);
    const path = absoluteOnHost(home, file.hostPath);
    await ctx.runner.upload(step.host, path, content, Number.parseInt(file.mode, 8));
    // upload's mode is subject to the umask of an existing file: set it, then the owner
    await run(ctx, step.host, { script: `chmod ${shq(file.mode)} ${shq(path)}${file.owner ? ` && chown ${shq(file.owner)} ${shq(path)}` : ''}` });
  }
};

/** docker run of an accessory; one left by an interrupted run with the same spec is kept (started if needed). */
export const accessoryRun: Handler<'accessory-run'> = async (ctx, step, action) => {
  const spec = action.spec;
  const existing = await inspectContainer(ctx, step.host, spec.containerName);
  if (existing) {
    if (existing.labels[SPEC_HASH_LABEL] !== spec.specHash) {
      throw new StalePlanError(`${step.host}: a container named ${spec.containerName} exists with another spec; re-run plan`);
    }
    if (!existing.running) await run(ctx, step.host, runtime.startContainer(runtimeOf(ctx, step.host), existing.id));
    return;
  }
  const home = homeOf(ctx, step.host);
  let envFile: string | undefined;
  const secretNames = Object.keys(spec.secretEnv).sort();
  if (secretNames.length > 0) {
    envFile = absoluteOnHost(home, hostPaths(ctx.service, ctx.destination).envFile(spec.containerName));
    const content = secretNames.map((name) => `${name}=${escapeEnvFileValue(spec.secretEnv[name]!.reveal())}`).join('\n') + '\n';
    await ctx.runner.upload(step.host, envFile, content, 0o600);
  }
  await makeBindSources(ctx, step.host, spec.volumes);
  const started = await tryRun(
    ctx,
    step.host,
    runAccessory(runtimeOf(ctx, step.host), spec, {
      ...(envFile ? { envFile } : {}),
      fileHostPaths: spec.files.map((file) => absoluteOnHost(home, file.hostPath)),
      directoryHostPaths: spec.directories.map((dir) => absoluteOnHost(home, dir.hostPath)),
    }),
  );
  if (started.code !== 0) {
    const why = lastLineOf(redact(started.stderr || started.stdout || `exit ${started.code}`, ctx.secrets)).replace(/^docker: /, '');
    throw new DeployError(`${step.host}: starting accessory ${spec.name} (${spec.image}) failed: ${why}`);
  }
};

/** Deletes an accessory's folders (only planned on request: --data). */
export const accessoryDataRemove: Handler<'accessory-data-remove'> = async (ctx, step, action) => {
  const home = homeOf(ctx, step.host);
  const dirs = action.dirs.map((dir) => absoluteOnHost(home, dir));
  // a last guard against a path that would take more than the accessory's data with it
  const unsafe = dirs.find((dir) => dir.split('/').filter(Boolean).length < 2 || dir.replace(/\/+$/, '') === home.replace(/\/+$/, ''));
  if (unsafe) throw new DeployError(`${step.host}: refusing to delete ${unsafe} for accessory ${action.name} (too close to / or the home folder)`);
  await run(ctx, step.host, { script: `rm -rf ${dirs.map(shq).join(' ')}` });
};
