// The composite probe: ONE read-only POSIX sh script per host, so a no-op plan costs one round
// trip per host. It prints delimited sections that parse.ts turns into a HostSnapshot. Every
// docker command comes from src/docker and every value is quoted by src/shell/quote.ts.
import { containerSummaryFormat, inspectContainers, listContainers, psLabel } from '../runtime/container.ts';
import { imageSummaryFormat, inspectImages, listImageIds } from '../runtime/image.ts';
import { PICK_RUNTIME_SH, RUNTIMES, imageRef, runtimeVersion, type RuntimeName, type RuntimeWish } from '../runtime/runtime.ts';
import { listNetworks } from '../runtime/network.ts';
import { TRAEFIK_API_PORT, traefikApiTwice, traefikHostGetDefinition } from '../runtime/traefik.ts';
import { hostPaths } from '../desired/paths.ts';
import { DESTINATION_LABEL, KAMAL_DESTINATION_LABEL, KAMAL_SERVICE_LABEL, SERVICE_LABEL } from '../model/labels.ts';
import { TRAEFIK_CONTAINER, traefikFileName } from '../model/names.ts';
import { TRAEFIK_DYNAMIC_HOST_DIR } from '../desired/proxy-routing.ts';
import { shq, toShell } from '../shell/quote.ts';

/** Marks the start of a section in the probe output: a line `@@mrsk-probe <name>@@`. */
export const SECTION_PATTERN = /^@@mrsk-probe ([a-z-]+)@@$/;

/** Section names the script prints, in order (some only in some cases). */
export type SectionName =
  | 'home'
  | 'problem'
  | 'runtime'
  | 'podman-service'
  | 'problem-detail'
  | 'version'
  | 'arch'
  | 'containers'
  | 'images'
  | 'networks'
  | 'lock'
  | 'release'
  | 'traefik-file'
  | 'traefik-services'
  | 'traefik-routers'
  | 'end';

/** Traefik API paths the probe reads; per_page is raised so one page holds every entry. */
export const TRAEFIK_SERVICES_PATH = '/api/http/services?per_page=1000';
export const TRAEFIK_ROUTERS_PATH = '/api/http/routers?per_page=1000';

/**
 * Bytes the script keeps of what one docker command prints into a shell variable (`head -c`):
 * a broken `docker` that prints without end then dies of SIGPIPE instead of filling the host's
 * shell forever, and the probe ends promptly with output the parser rejects. What goes straight
 * to stdout is capped by the SSH runner (16 MiB for the whole probe).
 */
export const CAPTURE_LIMIT_BYTES = 1024 * 1024;
/** The same for the files read under ~/.mrsk (the lock holder and the release record). */
export const FILE_LIMIT_BYTES = 4 * 1024 * 1024;

/** Bytes read of the app's Traefik file: its first line (`# mrsk v1:<64 hex>`) fits. */
export const TRAEFIK_FILE_HEAD_BYTES = 128;

/** Extra inputs of the probe. */
export interface ProbeScriptOptions {
  /** Image repository of the service (Config.image): its images are listed even with no container yet. */
  readonly imageRepo?: string;
  /** The runtime the configuration asks of this host (default docker); `auto`: see PICK_RUNTIME_SH. */
  readonly runtime?: RuntimeWish;
}

/** Where mrsk keeps what it runs next to Podman on a host (the keeper script, its pid and log). */
export const RUNTIME_STATE_DIR = '.mrsk/runtime';

/**
 * The probe script for one service (and destination). It only reads: the runtime's ps/inspect/image
 * ls/network ls, two files under ~/.mrsk, the first line of the app's Traefik file, and Traefik's
 * API via exec when Traefik runs. It exits 0 whatever it finds; a missing runtime, a stopped daemon
 * or a socket permission error are reported in a `problem` section.
 */
export function probeScript(service: string, destination: string | undefined, options: ProbeScriptOptions = {}): string {
  const wish = options.runtime ?? 'docker';
  const runtimes: readonly RuntimeName[] = wish === 'auto' ? ['docker', 'podman'] : [wish];
  const pick =
    wish === 'auto'
      ? [
          PICK_RUNTIME_SH,
          'if [ -z "$rt" ]; then section problem; echo runtime-missing; section problem-detail; echo auto; section end; exit 0; fi',
          'case $rt in',
          ...runtimes.flatMap((rt) => [`${rt})`, body(rt, service, destination, options), ';;']),
          'esac',
        ]
      : [
          `if ! command -v ${wish} >/dev/null 2>&1; then`,
          wish === 'docker' ? '  section problem; echo docker-missing' : `  section problem; echo runtime-missing; section problem-detail; echo ${wish}`,
          '  section end; exit 0',
          'fi',
          body(wish, service, destination, options),
        ];
  return [
    '# mrsk probe: read-only; prints sections for src/probe/parse.ts',
    'LC_ALL=C; export LC_ALL',
    // no pathname expansion: word-split lists ($ids, $repos) come from the runtime's output
    'set -f',
    "section() { printf '\\n@@mrsk-probe %s@@\\n' \"$1\"; }",
    // keeps at most CAPTURE_LIMIT_BYTES of what is captured into a variable (see above)
    `capped() { head -c ${CAPTURE_LIMIT_BYTES}; }`,
    'section home',
    "printf '%s\\n' \"$HOME\"",
    ...pick,
    'section end',
    'exit 0',
    '',
  ].join('\n');
}

/** The probe once the host's runtime is known. */
function body(rt: RuntimeName, service: string, destination: string | undefined, options: ProbeScriptOptions): string {
  const paths = hostPaths(service, destination);
  const traefikFile = `${TRAEFIK_DYNAMIC_HOST_DIR}/${traefikFileName(service, destination)}`;
  // the runtime's command words, quoted; `$ids`-style lists are appended unquoted on purpose (word splitting)
  const cmd = (argv: readonly string[]): string => toShell(argv);
  return [
    // rootless Podman keeps other containers, storage and networks than the root's: mrsk drives rootful Podman
    ...(rt === 'podman' ? ['if [ "$(id -u)" != 0 ]; then section problem; echo podman-rootless; section end; exit 0; fi'] : []),
    // the exit status travels behind the output, since a pipeline's status is head's
    `version=$( { ${cmd(runtimeVersion(rt))} 2>&1; echo " mrsk-status:$?"; } | capped)`,
    'case $version in',
    "  *' mrsk-status:0') version=${version%' mrsk-status:0'}; version_ok=1 ;;",
    "  *) version=${version%' mrsk-status:'*}; version_ok= ;;",
    'esac',
    'if [ -z "$version_ok" ]; then',
    '  section problem',
    '  case $version in',
    "    *'permission denied'*) echo permission-denied ;;",
    ...(rt === 'docker' ? ["    *'Cannot connect to the Docker daemon'*|*'Is the docker daemon running'*) echo docker-down ;;"] : []),
    `    *) if [ \${#version} -ge ${CAPTURE_LIMIT_BYTES} ]; then echo too-much-output; else echo error; fi ;;`,
    '  esac',
    "  section problem-detail; printf '%s\\n' \"$version\"",
    '  section end; exit 0',
    'fi',
    `section runtime; echo ${rt}`,
    // Podman prints its version with a leading newline-free line too; only its first line is read
    "section version; printf '%s\\n' \"$version\"",
    // the machine's architecture (uname -m), so a deploy builds the image for what the hosts run
    'section arch; uname -m 2>/dev/null',
    ...(rt === 'podman' ? podmanServiceSection() : []),
    // ONE listing of every container on the host, tab-separated (no label value or name holds a
    // tab): id, mrsk service, mrsk destination, Kamal's service and destination, name, image,
    // state, published ports. Our containers, Kamal's of this service, Traefik (and its API port),
    // the other apps and the image repositories are all picked from it (one runtime CLI process
    // instead of five).
    `all=$(${cmd(listContainers(rt, {}, { all: true, format: [ '{{.ID}}', psLabel(rt, SERVICE_LABEL), psLabel(rt, DESTINATION_LABEL), psLabel(rt, KAMAL_SERVICE_LABEL), psLabel(rt, KAMAL_DESTINATION_LABEL), '{{.Names}}', '{{.Image}}', '{{.State}}', '{{.Ports}}' ].join('\t') }))} 2>/dev/null | capped)`,
    `pick() { printf '%s\\n' "$all" | awk -F'\\t' -v s=${shq(service)} -v d=${shq(destination ?? '')} -v t=${shq(TRAEFIK_CONTAINER)} "$1"; }`,
    // ours (this service and destination), Kamal's of this service, and the host's Traefik
    // (Kamal's of this service by Kamal's own labels, any destination unless one is given; parse.ts keeps those without mrsk.* labels)
    `ids=$(pick '($2 == s && $3 == d) || ($4 == s && (d == "" || $5 == d)) || $6 == t { print $1 }' | sort -u)`,
    // every other mrsk-made app (`service` or `service/destination`): remove leaves Traefik and the network to them
    'section apps',
    `pick '$2 != "" && !($2 == s && $3 == d) { print ($3 == "" ? $2 : $2 "/" $3) }' | sort -u`,
    // one JSON line per container, without Config.Env (secret values from --env-file live there)
    'section containers',
    `if [ -n "$ids" ]; then ${cmd(inspectContainers(rt, [], { format: containerSummaryFormat(rt) }))} $ids 2>/dev/null; fi`,
    // images of every repository our containers were created from, plus the configured one
    `repos=$( { pick '$2 == s${destination ? ' && $3 == d' : ''} { print $7 }';` +
      `${options.imageRepo ? ` printf '%s\\n' ${shq(imageRef(rt, options.imageRepo))};` : ''} } | sed -e 's/@.*$//' -e 's/:[^:/]*$//' | sort -u)`,
    'set --',
    'for repo in $repos; do set -- "$@" --filter "reference=$repo"; done',
    'image_ids=',
    `if [ $# -gt 0 ]; then image_ids=$(${cmd(listImageIds(rt, []))} "$@" 2>/dev/null | capped | sort -u); fi`,
    'section images',
    `if [ -n "$image_ids" ]; then ${cmd(inspectImages(rt, [], { format: imageSummaryFormat(rt) }))} $image_ids 2>/dev/null; fi`,
    'section networks',
    `${cmd(listNetworks(rt))} 2>/dev/null`,
    `if [ -d "$HOME"/${shq(paths.lockDir)} ]; then`,
    `  section lock; head -c ${FILE_LIMIT_BYTES} "$HOME"/${shq(paths.lockHolder)} 2>/dev/null`,
    'fi',
    `if [ -f "$HOME"/${shq(paths.currentRelease)} ]; then`,
    `  section release; head -c ${FILE_LIMIT_BYTES} "$HOME"/${shq(paths.currentRelease)} 2>/dev/null`,
    'fi',
    // this app's file for Traefik: only its first line, and only when it is mrsk's hash line
    // (anything else prints `other`), so no certificate or key text ever leaves the host
    `if [ -f "$HOME"/${shq(traefikFile)} ]; then`,
    `  section traefik-file; head -c ${TRAEFIK_FILE_HEAD_BYTES} "$HOME"/${shq(traefikFile)} 2>/dev/null | awk 'NR == 1 { print ($0 ~ /^# mrsk v1:[0-9a-f]+$/ ? $0 : "other") } END { if (NR == 0) print "other" }'`,
    'fi',
    // Traefik's API when its container runs (Docker says running, Podman's ps `Up …`). First through
    // the API port Traefik publishes on the host's loopback (mrsk's does: 127.0.0.1:<api_port>->8080),
    // with the host's curl or wget: no process started in the container. Else, or when that read
    // fails, both reads in one exec into the container, as Traefik's own wget.
    `if [ -n "$(pick '$6 == t && ($8 == "running" || $8 ~ /^Up/) { print $1 }')" ]; then`,
    `  api=$(pick '$6 == t { n = split($9, p, /, */); for (i = 1; i <= n; i++) if (p[i] ~ /^127\\.0\\.0\\.1:[0-9]+->${TRAEFIK_API_PORT}\\/tcp$/) { sub(/^127\\.0\\.0\\.1:/, "", p[i]); sub(/->.*$/, "", p[i]); print p[i]; exit } }')`,
    `  ${traefikHostGetDefinition()}`,
    `  routers=; services=$(host_get ${shq(TRAEFIK_SERVICES_PATH)} | head -c ${FILE_LIMIT_BYTES})`,
    `  if [ -n "$services" ]; then routers=$(host_get ${shq(TRAEFIK_ROUTERS_PATH)} | head -c ${FILE_LIMIT_BYTES}); fi`,
    // an answer cut at the limit is read again through the container, whole
    `  if [ -n "$services" ] && [ -n "$routers" ] && [ \${#services} -lt ${FILE_LIMIT_BYTES} ] && [ \${#routers} -lt ${FILE_LIMIT_BYTES} ]; then`,
    `    section traefik-services; printf '%s' "$services"; section traefik-routers; printf '%s' "$routers"`,
    '  else',
    `    section traefik-services; ${cmd(traefikApiTwice(rt, TRAEFIK_SERVICES_PATH, TRAEFIK_ROUTERS_PATH, '@@mrsk-probe traefik-routers@@'))} 2>/dev/null`,
    '  fi',
    'fi',
  ].join('\n');
}

/**
 * On a Podman host: whether the host runs systemd, and whether Podman's API service (the socket
 * Traefik reads) and mrsk's keeper run: `service running|stopped`, `keeper <first line of the
 * keeper script>|none`, `systemd yes|no`.
 */
function podmanServiceSection(): string[] {
  return [
    'section podman-service',
    `if [ -S ${shq(RUNTIMES.podman.apiSocket)} ]; then echo 'socket yes'; else echo 'socket no'; fi`,
    `pid=$(cat "$HOME"/${shq(`${RUNTIME_STATE_DIR}/keeper.pid`)} 2>/dev/null)`,
    `if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then printf 'keeper %s\\n' "$(head -n 1 "$HOME"/${shq(`${RUNTIME_STATE_DIR}/keeper.sh`)} 2>/dev/null)"; else echo 'keeper none'; fi`,
    'if [ -d /run/systemd/system ]; then echo systemd yes; else echo systemd no; fi',
  ];
}
