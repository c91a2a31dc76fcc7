// docker run of an accessory: like an app container's, plus published ports, its uploaded files
// mounted read-only and its data folders read-write (absolute host paths, resolved by the caller).
import type { AccessorySpec } from '../desired/accessory.ts';
import { imageRef, type RuntimeName } from './runtime.ts';
import { InternalError } from '../errors.ts';
import { type Argv, keyValueFlags, repeatFlag } from './argv.ts';

/** Host-side paths of one run: the secret env file, and where each file and folder is on this host. */
export interface RunAccessoryOptions {
  readonly envFile?: string;
  /** Absolute host path of each spec file, in spec order. */
  readonly fileHostPaths: readonly string[];
  /** Absolute host path of each spec directory, in spec order. */
  readonly directoryHostPaths: readonly string[];
}

/** `docker run -d` of an accessory; secret values only through --env-file. */
export function runAccessory(rt: RuntimeName, spec: AccessorySpec, opts: RunAccessoryOptions): Argv {
  if (Object.keys(spec.secretEnv).length > 0 && opts.envFile === undefined) {
    throw new InternalError(`accessory ${spec.containerName} has secret env but no env file was given`);
  }
  const argv = [rt, 'run', '-d', '--name', spec.containerName, '--network', spec.network, '--restart', 'unless-stopped'];
  argv.push(...repeatFlag('-p', spec.ports));
  argv.push(...keyValueFlags('--env', spec.env));
  if (opts.envFile !== undefined) argv.push('--env-file', opts.envFile);
  argv.push(...keyValueFlags('--label', spec.labels));
  argv.push(...repeatFlag('-v', spec.volumes));
  spec.files.forEach((file, index) => argv.push('-v', `${opts.fileHostPaths[index]}:${file.remote}:ro`));
  spec.directories.forEach((dir, index) => argv.push('-v', `${opts.directoryHostPaths[index]}:${dir.remote}`));
  if (spec.logging.driver !== undefined) argv.push('--log-driver', spec.logging.driver);
  argv.push(...keyValueFlags('--log-opt', spec.logging.options));
  argv.push(...spec.options, imageRef(rt, spec.image), ...(spec.cmd ?? []));
  return argv;
}
