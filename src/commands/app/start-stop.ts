// mrsk app start|stop: a plan like any other change (mode start/stop, target app): start the
// deployed version's containers again and wait until they are healthy and routed, or drain the
// serving ones from Traefik and stop them. Shown first, run under the lock, audited, --json.
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import { requireHosts } from '../shared/common.ts';
import { converge } from '../converge.ts';
import { lockOptions, parseLockRequest, type LockOptionValues } from '../shared/options.ts';
import { withSession } from '../shared/session.ts';

async function appStartStop(ctx: CommandContext, options: LockOptionValues, action: 'start' | 'stop'): Promise<number> {
  const lock = parseLockRequest(options);
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const result = await converge(ctx, session, {
      command: `app ${action}`,
      request: { mode: action, target: 'app' },
      ask: false,
      lockWait: lock.waitSeconds,
      forceLock: lock.force,
      verb: 'changed',
    });
    const { service } = session.config;
    if (result.plan.steps.length > 0) ctx.out.info(`${action === 'start' ? 'Started' : 'Stopped'} ${service} on ${new Set(result.plan.steps.map((s) => s.host)).size} host(s) in ${(result.ms / 1000).toFixed(1)}s`);
    // "No changes. Hosts match the configuration." alone reads oddly after a stop: say which way they match
    else if (result.plan.blockedHosts.length === 0) ctx.out.info(action === 'start' ? `${service} is serving on every selected host: nothing to start.` : `${service} is not running on any selected host: nothing to stop.`);
    return result.plan.blockedHosts.length > 0 ? 1 : 0;
  }, { app: true });
}

export function registerStartStop(app: Command, bind: Bind): void {
  lockOptions(app.command('start').description('start the deployed version’s stopped containers and wait until they serve (shows the plan first)')).action(
    bind<LockOptionValues>((ctx, options) => appStartStop(ctx, options, 'start')),
  );
  lockOptions(app.command('stop').description('drain the serving app containers from Traefik and stop them (shows the plan first)')).action(
    bind<LockOptionValues>((ctx, options) => appStartStop(ctx, options, 'stop')),
  );
}
