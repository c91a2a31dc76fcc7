// mrsk lock status|acquire|release: the deploy lock by hand. A manual lock (e.g. during a
// database migration) stops every deploy, apply and rollback until it is released.
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import { acquireLock, auditOrReport, describeLock, forceRelease } from '../apply/lock.ts';
import { whoAmI } from '../apply/lock-holder.ts';
import { tryRun } from '../apply/remote.ts';
import { LockHeldError, UsageError } from '../errors.ts';
import { lockStatusScript } from '../host/lock.ts';
import { formatLockState, lockStatusJson, parseLockStatus, type HostLockState } from '../ops/lock-status.ts';
import { requireHosts, type Session } from './shared/common.ts';
import { lockOptions, parseLockRequest, parseSeconds, type LockOptionValues } from './shared/options.ts';
import { withSession } from './shared/session.ts';

/** A manual lock lasts a day unless --lease says otherwise; after that it shows as stale. */
export const MANUAL_LEASE_SECONDS = 24 * 60 * 60;

/** Reads the lock record on every selected host. */
export async function lockStates(session: Session): Promise<HostLockState[]> {
  const script = lockStatusScript(session.config);
  return Promise.all(
    session.hosts.map(async (host): Promise<HostLockState> => {
      try {
        const result = await tryRun(session.remote, host, script);
        if (result.code !== 0) return { host, state: 'error', message: result.stderr.trim() || `exit ${result.code}` };
        return parseLockStatus(host, result.stdout);
      } catch (error) {
        return { host, state: 'error', message: (error as Error).message };
      }
    }),
  );
}

async function status(ctx: CommandContext, options: { json?: boolean }): Promise<number> {
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const states = await lockStates(session);
    if (options.json) ctx.out.printJson(lockStatusJson(states));
    else for (const state of states) ctx.out.print(formatLockState(state));
    return states.some((s) => s.state === 'error') ? 1 : 0;
  });
}

interface AcquireOptions extends LockOptionValues {
  message?: string;
  lease?: string;
}

async function acquire(ctx: CommandContext, options: AcquireOptions): Promise<number> {
  if (!options.message) throw new UsageError('lock acquire needs -m "why", so that others know what the lock is for');
  const lease = parseSeconds('--lease', options.lease) ?? MANUAL_LEASE_SECONDS;
  if (!(lease > 0)) throw new UsageError(`--lease needs a number of seconds above 0, got ${options.lease}`);
  const request = parseLockRequest(options);
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const { service, destination } = session.config;
    const lock = await acquireLock(session.remote, session.hosts, {
      service,
      destination,
      command: 'lock acquire',
      message: options.message,
      manual: true,
      leaseSeconds: lease,
      ...request,
    });
    await auditOrReport(session.remote, session.hosts, service, destination, `lock acquire: ${options.message}`, (text) => ctx.out.warn(text));
    ctx.out.print(`Acquired the deploy lock on ${session.hosts.join(', ')}: ${describeLock(lock.info)}`);
    return 0;
  });
}

async function release(ctx: CommandContext, options: { force?: boolean }): Promise<number> {
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const { service, destination } = session.config;
    const me = whoAmI();
    const states = await lockStates(session);
    const refused: string[] = [];
    const release: string[] = [];
    for (const state of states) {
      if (state.state === 'unlocked') continue;
      if (state.state === 'error') refused.push(formatLockState(state));
      else if (options.force || (state.state === 'locked' && state.lock.holder === me)) release.push(state.host);
      else refused.push(formatLockState(state));
    }
    if (release.length) {
      await forceRelease(session.remote, release, { service, destination });
      await auditOrReport(session.remote, release, service, destination, `lock release${options.force ? ' --force' : ''}`, (text) => ctx.out.warn(text));
      ctx.out.print(`Released the deploy lock on ${release.join(', ')}`);
    }
    if (refused.length) {
      throw new LockHeldError(`not released (held by someone else; --force releases it anyway):\n${refused.join('\n')}`);
    }
    if (release.length === 0) ctx.out.print('No deploy lock is held on the selected hosts.');
    return 0;
  });
}

export const register: RegisterCommand = (program, bind) => {
  const lock = program.command('lock').description('show, take or release the deploy lock');
  lock
    .command('status')
    .description('who holds the deploy lock on each host, for what, and until when')
    .option('--json', 'print JSON')
    .action(bind<{ json?: boolean }>((ctx, options) => status(ctx, options)));
  lockOptions(lock
    .command('acquire')
    .description('take the deploy lock on every selected host, so no deploy runs until it is released')
    .requiredOption('-m, --message <text>', 'why (shown to anyone who tries to deploy)')
    .option('--lease <seconds>', `how long the lock counts as alive (default ${MANUAL_LEASE_SECONDS})`))
    .action(bind<AcquireOptions>((ctx, options) => acquire(ctx, options)));
  lock
    .command('release')
    .description('release your deploy lock (--force: anyone’s, e.g. a stale one)')
    .option('--force', 'release it whoever holds it')
    .action(bind<{ force?: boolean }>((ctx, options) => release(ctx, options)));
};
