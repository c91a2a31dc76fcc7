// mrsk accessory boot|reboot|start|stop|restart|remove|upload|details|logs|exec NAME|all: the
// databases, caches and other services the config runs next to the app (accessories:), each on
// its own hosts. Changes are plans (change.ts); details, logs and exec only read or run commands.
import type { RegisterCommand } from '../../cli/program.ts';
import { registerChange } from './change.ts';
import { registerDetails } from './details.ts';
import { registerExec } from './exec.ts';
import { registerLogs } from './logs.ts';

export const register: RegisterCommand = (program, bind) => {
  const accessory = program
    .command('accessory')
    .description('the accessories (databases, caches) next to the app: boot, reboot, start, stop, restart, remove, upload (each shows its plan first), details, logs, exec; NAME or all');
  // the order `mrsk accessory --help` lists them
  registerChange(accessory, bind);
  registerDetails(accessory, bind);
  registerLogs(accessory, bind);
  registerExec(accessory, bind);
};
