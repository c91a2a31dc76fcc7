// The placeholders `mrsk init` writes (documentation addresses, `my-user`, `change-me`) must be
// replaced before mrsk connects anywhere: a documentation address may be routable, and pushing to
// someone else's `my-user` account or starting an app with the secret `change-me` is never meant.
// Pure: the caller reads the files and passes their text; this module only looks.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Diagnostic } from '../errors.ts';
import { formatPath } from './source.ts';
import { parseDotenv } from './secrets.ts';
import type { Config } from './types.ts';

/** The account name the template uses in `image` and `registry.username`. */
export const PLACEHOLDER_ACCOUNT = 'my-user';
/** The value the template's secrets file gives every secret. */
export const PLACEHOLDER_SECRET = 'change-me';

/** The text of a file the config was read from, for pointing at a placeholder (line:col). */
export interface PlaceholderSource {
  /** As shown in messages: `config/deploy.yml`, `.mrsk/secrets`. */
  readonly file: string;
  readonly text: string;
  /** A deploy.yml (YAML) or a secrets file (dotenv). */
  readonly kind: 'config' | 'secrets';
}

// RFC 5737 (IPv4) and RFC 3849 (IPv6) documentation ranges: never a real server.
const DOCUMENTATION_IPV4 = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/;
const DOCUMENTATION_IPV6 = /^\[?2001:0?db8:/i;
// RFC 2606 names reserved for examples, and the MRSK README's own `xxx.xxx.xxx.xxx`.
const EXAMPLE_NAME = /(^|\.)(example\.(com|net|org)|example|invalid)\.?$/i;
const XXX_ADDRESS = /^x{1,3}(\.x{1,3}){3}$/i;

/** Why a host name or address is a placeholder, or undefined when it may be real. */
export function placeholderHostReason(host: string): string | undefined {
  const bare = host.trim().replace(/:\d+$/, '');
  if (DOCUMENTATION_IPV4.test(bare) || DOCUMENTATION_IPV6.test(bare)) return 'a documentation address (RFC 5737), never a real server';
  if (EXAMPLE_NAME.test(bare)) return 'a name reserved for examples (RFC 2606), never a real server';
  if (XXX_ADDRESS.test(bare)) return 'a placeholder address';
  return undefined;
}

/** The host of `user@host[:port]`, `ssh://user@host:port`, `tcp://host:port`; undefined for unix:// sockets. */
function hostOf(target: string): string | undefined {
  if (/^unix:\/\//.test(target)) return undefined;
  const withoutScheme = target.replace(/^[a-z]+:\/\//i, '');
  const withoutUser = withoutScheme.slice(withoutScheme.lastIndexOf('@') + 1);
  const withoutPath = withoutUser.split('/')[0] ?? withoutUser;
  return withoutPath.replace(/:\d+$/, '');
}

/** One placeholder found in the effective config, before it is located in a file. */
interface Finding {
  /** The key path where the template puts it, preferred when the value occurs more than once. */
  readonly key: string;
  /** The text searched for in the config files (never a secret value). */
  readonly value: string;
  readonly message: string;
}

/** Placeholders in the effective config (after interpolation and merging), by key. */
function findInConfig(config: Config): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (finding: Finding) => {
    const id = `${finding.key}\0${finding.value}`;
    if (!seen.has(id)) findings.push(finding), seen.add(id);
  };
  const hostFinding = (key: string, host: string, instead: string) => {
    const reason = placeholderHostReason(host);
    if (reason) add({ key, value: host, message: `${host} is ${reason}: ${instead}` });
  };
  for (const role of config.roles) for (const host of role.hosts) hostFinding('servers', host, "put your server's address or host name here");
  for (const accessory of config.accessories) for (const host of accessory.hosts) hostFinding('accessories', host, "put your server's address or host name here");
  if (config.ssh.proxy) {
    const host = hostOf(config.ssh.proxy);
    if (host) hostFinding('ssh.proxy', host, 'put your bastion host here, or remove ssh.proxy');
  }
  if (config.builder.remote) {
    const host = hostOf(config.builder.remote);
    if (host) hostFinding('builder.remote', host, 'put your build host here, or remove builder.remote to build on this machine');
  }
  if (config.registry.server) hostFinding('registry.server', hostOf(config.registry.server) ?? config.registry.server, 'put your registry here (e.g. ghcr.io), or remove registry.server for Docker Hub');

  const imageSegments = config.image.split('/');
  if (imageSegments.includes(PLACEHOLDER_ACCOUNT)) {
    add({ key: 'image', value: config.image, message: `${config.image}: ${PLACEHOLDER_ACCOUNT} is a placeholder: use your registry account or organisation (e.g. ghcr.io/acme/app)` });
  } else {
    const host = imageSegments.length > 1 ? imageSegments[0]! : undefined;
    if (host && /[.:]/.test(host)) hostFinding('image', host, 'put your registry here, or name the image account/app for Docker Hub');
  }
  if (config.registry.username === PLACEHOLDER_ACCOUNT) {
    add({ key: 'registry.username', value: PLACEHOLDER_ACCOUNT, message: `${PLACEHOLDER_ACCOUNT} is a placeholder: put your registry user name here` });
  }
  return findings;
}

/** Names of the secrets whose value is still the template's `change-me` (values are never returned). */
export function placeholderSecretNames(config: Config): string[] {
  const names = new Set<string>();
  for (const secret of config.secrets) {
    if (secret.reveal().trim().toLowerCase() === PLACEHOLDER_SECRET) names.add(secret.name);
  }
  return [...names];
}

/** Every scalar of a YAML text with its key path and position, in document order. */
function scalarsOf(text: string): { path: (string | number)[]; value: string; line: number; col: number }[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const out: { path: (string | number)[]; value: string; line: number; col: number }[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (isMap(node)) {
      for (const item of node.items) if (isPair(item) && isScalar(item.key)) walk(item.value, [...path, String(item.key.value)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    } else if (isScalar(node) && node.value !== null && node.value !== undefined) {
      const pos = lineCounter.linePos((node as Node).range?.[0] ?? 0);
      out.push({ path, value: String(node.value), line: pos.line, col: pos.col });
    }
  };
  walk(doc.contents, []);
  return out;
}

/** Where a secret's value is set in a secrets file: the last `NAME=` line (later lines win). */
function secretLine(text: string, name: string): number | undefined {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const pattern = new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=`);
  let found: number | undefined;
  lines.forEach((line, index) => {
    if (pattern.test(line)) found = index + 1;
  });
  return found;
}

/**
 * The placeholders of `mrsk init` still in the effective config, each positioned in the file it
 * comes from when it can be found there (a value from the environment is named without a place).
 * Empty when the config is ready to use.
 */
export function placeholderProblems(config: Config, sources: readonly PlaceholderSource[]): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const configSources = sources.filter((s) => s.kind === 'config');
  // The destination file overrides the main one: search it first.
  const scalars = [...configSources].reverse().flatMap((source) => scalarsOf(source.text).map((scalar) => ({ ...scalar, file: source.file })));
  for (const finding of findInConfig(config)) {
    const matches = scalars.filter((scalar) => scalar.value.includes(finding.value));
    const match = matches.find((scalar) => formatPath(scalar.path).startsWith(finding.key)) ?? matches[0];
    if (match) problems.push({ file: match.file, line: match.line, col: match.col, path: formatPath(match.path), message: finding.message });
    else problems.push({ file: config.file, path: finding.key, message: `${finding.message} (the value comes from the environment)` });
  }
  const secretFiles = sources.filter((s) => s.kind === 'secrets');
  for (const name of placeholderSecretNames(config)) {
    // A secrets file wins over the environment (Kamal's precedence): the file is the place to fix.
    const message = `still "${PLACEHOLDER_SECRET}", the placeholder of \`mrsk init\`: put the real value here`;
    // The first file (in precedence order) that sets it with the placeholder value is the one to edit.
    const file = secretFiles.find((source) => parseDotenv(source.text).values.get(name)?.trim().toLowerCase() === PLACEHOLDER_SECRET);
    const line = file ? secretLine(file.text, name) : undefined;
    if (file && line !== undefined) problems.push({ file: file.file, line, col: 1, path: name, message });
    else problems.push({ file: '', path: '', message: `${name} is set to "${PLACEHOLDER_SECRET}" (in the environment or a Kamal secrets file), the placeholder of \`mrsk init\`: set the real value` });
  }
  // In the order a person edits: file by file (as given), top to bottom.
  const files = [config.file, ...sources.map((s) => s.file)];
  const rank = (d: Diagnostic) => (d.file === '' ? files.length : files.indexOf(d.file));
  return problems.sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** The first line of the refusal: which files to edit. */
export function placeholderHeadline(problems: readonly Diagnostic[]): string {
  const files = [...new Set(problems.map((p) => p.file).filter((f) => f !== ''))];
  const what = files.length > 0 ? files.join(' and ') : 'the environment';
  return `edit ${what} first: ${problems.length === 1 ? 'a placeholder' : `${problems.length} placeholders`} from \`mrsk init\` ${problems.length === 1 ? 'is' : 'are'} still there (nothing was contacted)`;
}
