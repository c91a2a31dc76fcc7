// Hints for remote failures whose raw message does not tell a user what to do.

/**
 * When stderr shows docker refusing a non-root SSH user access to its socket, the fix to tell
 * the user: the user must be in the docker group (mrsk runs docker without sudo). Undefined otherwise.
 */
export function dockerPermissionHint(stderr: string, user?: string): string | undefined {
  if (!/permission denied while trying to connect to the docker (daemon|API)/i.test(stderr)) return undefined;
  const who = user ?? 'the SSH user';
  return (
    `${who} may not use the Docker daemon socket: add ${who} to the docker group ` +
    `(\`sudo usermod -aG docker ${user ?? '<user>'}\`) and run mrsk again (group changes apply to new SSH sessions)`
  );
}
