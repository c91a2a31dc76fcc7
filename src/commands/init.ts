import type { RegisterCommand } from '../cli/program.ts';

export const register: RegisterCommand = (program, bind) => {
  program
    .command('init')
    .description('write a commented config/deploy.yml and .mrsk/secrets to start from')
    .option('--force', 'overwrite existing files')
    .action(bind(async (ctx) => {
      ctx.out.error('not implemented yet');
      return 1;
    }));
};
