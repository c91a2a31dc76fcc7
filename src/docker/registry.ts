// Builders for registry login/logout. The password is never an argument: callers pass it as the
// command's stdin (ExecOptions.stdin), so it appears in no process list, log or error message.
import type { Argv } from './argv.ts';

/** `docker login --password-stdin`; server undefined means Docker Hub. */
export function login(server: string | undefined, username: string): Argv {
  return ['docker', 'login', '--username', username, '--password-stdin', ...(server === undefined ? [] : [server])];
}

/** `docker logout`; server undefined means Docker Hub. */
export function logout(server?: string): Argv {
  return ['docker', 'logout', ...(server === undefined ? [] : [server])];
}
