// The session scaffolding every connecting command repeats: open (config, host selection, lazy
// SSH), run the body, always close the connections, also when the body throws.
import type { CommandContext } from '../../cli/context.ts';
import { openSession, type Session } from './common.ts';

/** Runs fn with an open session and closes it afterwards, whatever fn did. */
export async function withSession<T>(ctx: CommandContext, fn: (session: Session) => Promise<T>, overrides: { maxConcurrent?: number } = {}): Promise<T> {
  const session = await openSession(ctx, overrides);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
