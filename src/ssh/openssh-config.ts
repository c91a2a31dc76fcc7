// What ~/.ssh/config says about a host, for the few settings mrsk honours: HostName, User,
// Port, IdentityFile and ProxyJump. Parsing is the `ssh-config` package's; this module is pure
// (connect.ts reads the file) and never evaluates `Match exec` (that would run shell commands).
import SSHConfig from 'ssh-config';

/** The settings ~/.ssh/config gives one host; undefined where the file says nothing. */
export interface OpenSshHostSettings {
  /** The address to connect to (HostName, with %h expanded); the alias itself if not set. */
  readonly hostName: string;
  readonly user?: string;
  readonly port?: number;
  /** IdentityFile entries in file order, with `~` and %d %h %r %u %% expanded. */
  readonly identityFiles: readonly string[];
  /** ProxyJump, unless absent or `none`. */
  readonly proxyJump?: string;
}

/** Where the tokens in IdentityFile point. */
export interface ExpansionContext {
  /** Local home directory (for `~` and %d). */
  readonly home: string;
  /** Local user name (%u). */
  readonly localUser: string;
}

/** Resolves the settings for `host` from config text (the first value found wins, as in OpenSSH). */
export function resolveOpenSshHost(configText: string, host: string, context: ExpansionContext): OpenSshHostSettings {
  const computed = SSHConfig.parse(configText).compute(host, { ignoreCase: true, matchExec: false });
  const first = (key: string): string | undefined => {
    const value = computed[key];
    return Array.isArray(value) ? value[0] : value;
  };
  const all = (key: string): string[] => {
    const value = computed[key];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  };
  const hostName = expandTokens(first('hostname') ?? host, { ...context, host, remoteUser: '' }) || host;
  const user = first('user');
  const portText = first('port');
  const port = portText !== undefined && /^\d+$/.test(portText) ? Number(portText) : undefined;
  const proxyJump = first('proxyjump');
  const tokenValues = { ...context, host: hostName, remoteUser: user ?? '' };
  return {
    hostName,
    ...(user !== undefined ? { user } : {}),
    ...(port !== undefined ? { port } : {}),
    identityFiles: all('identityfile').map((file) => expandTokens(expandTilde(file, context.home), tokenValues)),
    ...(proxyJump !== undefined && proxyJump.toLowerCase() !== 'none' ? { proxyJump } : {}),
  };
}

/** `~/x` → `<home>/x`. */
export function expandTilde(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
}

/** `<home>/x` → `~/x`, so messages name local files the way a user would type them. */
export function tildePath(path: string, home: string): string {
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

function expandTokens(
  value: string,
  values: ExpansionContext & { readonly host: string; readonly remoteUser: string },
): string {
  return value.replace(/%([%dhru])/g, (_match, token: string) => {
    switch (token) {
      case '%':
        return '%';
      case 'd':
        return values.home;
      case 'h':
        return values.host;
      case 'r':
        return values.remoteUser;
      default:
        return values.localUser;
    }
  });
}

/** A `[user@]host[:port]` jump spec (ssh.proxy or ProxyJump), split. Multi-hop lists are refused by the caller. */
export interface JumpSpec {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

/** Parses `[user@]host[:port]` (also `[v6addr]:port`); undefined when malformed. */
export function parseJumpSpec(spec: string): JumpSpec | undefined {
  const match = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s\[\]]+)(?::(\d{1,5}))?$/.exec(spec.trim().replace(/^ssh:\/\//, ''));
  if (!match) return undefined;
  const [, user, rawHost, portText] = match;
  const host = rawHost!.startsWith('[') ? rawHost!.slice(1, -1) : rawHost!;
  return {
    host,
    ...(user !== undefined ? { user } : {}),
    ...(portText !== undefined ? { port: Number(portText) } : {}),
  };
}
