// Every command module, in the order `mrsk --help` lists them. Add one line per module.
import type { RegisterCommand } from './program.ts';
import { register as registerInit } from '../commands/init.ts';
import { register as registerConfig } from '../commands/config.ts';
import { register as registerPlan } from '../commands/plan.ts';
import { register as registerApply } from '../commands/apply.ts';
import { register as registerDeploy } from '../commands/deploy.ts';
import { register as registerSetup } from '../commands/setup.ts';
import { register as registerRollback } from '../commands/rollback.ts';
import { register as registerPrune } from '../commands/prune.ts';
import { register as registerRemove } from '../commands/remove.ts';
import { register as registerDrift } from '../commands/drift.ts';
import { register as registerReleases } from '../commands/releases.ts';
import { register as registerApp } from '../commands/app.ts';
import { register as registerTraefik } from '../commands/traefik.ts';
import { register as registerRegistry } from '../commands/registry.ts';
import { register as registerLock } from '../commands/lock.ts';
import { register as registerAudit } from '../commands/audit.ts';
import { register as registerDetails } from '../commands/details.ts';
import { register as registerConsole } from '../commands/console.ts';
import { addExamples } from './help.ts';
import { addHabitPointers } from './habits.ts';

/** Last: every command registered above gets its help examples and the Kamal-habit pointers. */
const registerHelpAndHabits: RegisterCommand = (program) => {
  addExamples(program);
  addHabitPointers(program);
};

export const commands: readonly RegisterCommand[] = [
  registerInit,
  registerConfig,
  registerPlan,
  registerApply,
  registerDeploy,
  registerSetup,
  registerRollback,
  registerPrune,
  registerRemove,
  registerDrift,
  registerReleases,
  registerApp,
  registerTraefik,
  registerRegistry,
  registerLock,
  registerAudit,
  registerDetails,
  registerConsole,
  registerHelpAndHabits,
];
