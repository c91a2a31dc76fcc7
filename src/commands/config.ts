import type { RegisterCommand } from '../cli/program.ts';

export const register: RegisterCommand = (program, bind) => {
  program
    .command('config')
    .description('print the resolved configuration (secrets redacted)')
    .option('--json', 'print JSON instead of YAML')
    .action(bind(async (ctx) => {
      ctx.out.error('not implemented yet');
      return 1;
    }));
};
