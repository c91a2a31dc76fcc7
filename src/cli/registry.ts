// Every command module, in the order `mrsk --help` lists them. Add one line per module.
import type { RegisterCommand } from './program.ts';
import { register as registerInit } from '../commands/init.ts';
import { register as registerConfig } from '../commands/config.ts';
import { register as registerDrift } from '../commands/drift.ts';
import { register as registerReleases } from '../commands/releases.ts';
import { register as registerApp } from '../commands/app.ts';
import { register as registerTraefik } from '../commands/traefik.ts';
import { register as registerRegistry } from '../commands/registry.ts';
import { register as registerLock } from '../commands/lock.ts';
import { register as registerAudit } from '../commands/audit.ts';
import { register as registerDetails } from '../commands/details.ts';
import { register as registerConsole } from '../commands/console.ts';

export const commands: readonly RegisterCommand[] = [
  registerInit,
  registerConfig,
  registerDrift,
  registerReleases,
  registerApp,
  registerTraefik,
  registerRegistry,
  registerLock,
  registerAudit,
  registerDetails,
  registerConsole,
];
