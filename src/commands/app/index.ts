// mrsk app exec|containers|images|details|logs|start|stop|version: the day-two commands on the
// app's containers, one file per verb. Every command runs on the selected hosts in parallel and
// prints one `App Host: <host>` section per host, in host order (see src/ops/hosts.ts).
import type { RegisterCommand } from '../../cli/program.ts';
import { registerContainers } from './containers.ts';
import { registerDetails } from './details.ts';
import { registerExec } from './exec.ts';
import { registerImages } from './images.ts';
import { registerLogs } from './logs.ts';
import { registerStartStop } from './start-stop.ts';
import { registerVersion } from './version.ts';

export const register: RegisterCommand = (program, bind) => {
  const app = program.command('app').description('run commands in the app containers, show them, their logs and versions');
  // the order `mrsk app --help` lists them
  registerExec(app, bind);
  registerContainers(app, bind);
  registerImages(app, bind);
  registerDetails(app, bind);
  registerLogs(app, bind);
  registerStartStop(app, bind);
  registerVersion(app, bind);
};
