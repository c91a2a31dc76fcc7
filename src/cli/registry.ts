// Every command module, in the order `mrsk --help` lists them. Add one line per module.
import type { RegisterCommand } from './program.ts';
import { register as registerInit } from '../commands/init.ts';
import { register as registerConfig } from '../commands/config.ts';
import { register as registerDrift } from '../commands/drift.ts';
import { register as registerReleases } from '../commands/releases.ts';

export const commands: readonly RegisterCommand[] = [
  registerInit,
  registerConfig,
  registerDrift,
  registerReleases,
];
