// `mrsk config`: prints the configuration as mrsk resolved it (destination merged, variables
// interpolated, defaults filled in), with every secret shown as [REDACTED].
import type { RegisterCommand } from '../cli/program.ts';
import { loadConfig } from '../config/load.ts';
import { configToJson, configToYaml } from '../config/present.ts';

/** Registers `mrsk config`. */
export const register: RegisterCommand = (program, bind) => {
  program
    .command('config')
    .description('print the resolved configuration (secrets redacted)')
    .option('--json', 'print JSON instead of YAML')
    .action(
      bind<{ json?: boolean }>(async (ctx, options) => {
        const config = await loadConfig({
          file: ctx.global.config,
          ...(ctx.global.destination !== undefined ? { destination: ctx.global.destination } : {}),
          cwd: ctx.cwd,
        });
        ctx.out.print(options.json ? configToJson(config) : configToYaml(config));
        return 0;
      }),
    );
};
