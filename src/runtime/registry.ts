// Builders for registry login/logout. The password is never an argument: callers pass it as the
// command's stdin (ExecOptions.stdin), so it appears in no process list, log or error message.
import type { Argv } from './argv.ts';
import type { RuntimeName } from './runtime.ts';

/** `docker login --password-stdin`; server undefined means Docker Hub. */
export function login(rt: RuntimeName, server: string | undefined, username: string): Argv {
  return [rt, 'login', '--username', username, '--password-stdin', ...(server === undefined ? [] : [server])];
}

/** `docker logout`; server undefined means Docker Hub. */
export function logout(rt: RuntimeName, server?: string): Argv {
  return [rt, 'logout', ...(server === undefined ? [] : [server])];
}
