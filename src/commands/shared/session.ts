// The session scaffolding every connecting command repeats: open (config, host selection, lazy
// SSH), run the body, always close the connections, also when the body throws.
import type { CommandContext } from '../../cli/context.ts';
import { appSession, openSession, requireAppHosts, type Session } from './common.ts';

export interface SessionOverrides {
  readonly maxConcurrent?: number;
  /**
   * A command about the app alone (deploy, rollback, app …): the session keeps only the selected
   * hosts that carry a role, so a host that runs only accessories gets nothing from it; selecting
   * only such hosts is a usage error (common.ts requireAppHosts).
   */
  readonly app?: boolean;
}

/** Runs fn with an open session and closes it afterwards, whatever fn did. */
export async function withSession<T>(ctx: CommandContext, fn: (session: Session) => Promise<T>, overrides: SessionOverrides = {}): Promise<T> {
  const session = await openSession(ctx, overrides.maxConcurrent ? { maxConcurrent: overrides.maxConcurrent } : {});
  try {
    if (!overrides.app) return await fn(session);
    requireAppHosts(session);
    return await fn(appSession(session));
  } finally {
    await session.close();
  }
}
