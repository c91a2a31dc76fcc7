// The composite probe: ONE read-only POSIX sh script per host, so a no-op plan costs one round
// trip per host. It prints delimited sections that parse.ts turns into a HostSnapshot. Every
// docker command comes from src/docker and every value is quoted by src/shell/quote.ts.
import { CONTAINER_SUMMARY_FORMAT, inspectContainers, listContainerIds, listContainers } from '../docker/container.ts';
import { IMAGE_SUMMARY_FORMAT, inspectImages, listImageIds } from '../docker/image.ts';
import { listNetworks } from '../docker/network.ts';
import { traefikApi } from '../docker/traefik.ts';
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
}

/**
 * The probe script for one service (and destination). It only reads: docker ps/inspect/image ls/
 * network ls, two files under ~/.mrsk, the first line of the app's Traefik file, and Traefik's
 * API via docker exec when Traefik runs. It exits 0 whatever it finds; a missing docker binary, a stopped daemon or a socket permission
 * error are reported in a `problem` section.
 */
export function probeScript(service: string, destination: string | undefined, options: ProbeScriptOptions = {}): string {
  const serviceFilters = { label: [`${SERVICE_LABEL}=${service}`, ...(destination ? [`${DESTINATION_LABEL}=${destination}`] : [])] };
  const traefikFilter = { name: `^${TRAEFIK_CONTAINER}$` };
  const paths = hostPaths(service, destination);
  const traefikFile = `${TRAEFIK_DYNAMIC_HOST_DIR}/${traefikFileName(service, destination)}`;
  // Kamal-made containers of this service (Kamal's own labels; parse.ts keeps those without mrsk.* labels)
  const kamalFilters = { label: [`${KAMAL_SERVICE_LABEL}=${service}`, ...(destination ? [`${KAMAL_DESTINATION_LABEL}=${destination}`] : [])] };
  // the docker command words, quoted; `$ids`-style lists are appended unquoted on purpose (word splitting)
  const cmd = (argv: readonly string[]): string => toShell(argv);
  return [
    '# mrsk probe: read-only; prints sections for src/probe/parse.ts',
    'LC_ALL=C; export LC_ALL',
    // no pathname expansion: word-split lists ($ids, $repos) come from docker's output
    'set -f',
    "section() { printf '\\n@@mrsk-probe %s@@\\n' \"$1\"; }",
    // keeps at most CAPTURE_LIMIT_BYTES of what is captured into a variable (see above)
    `capped() { head -c ${CAPTURE_LIMIT_BYTES}; }`,
    'section home',
    "printf '%s\\n' \"$HOME\"",
    'if ! command -v docker >/dev/null 2>&1; then',
    '  section problem; echo docker-missing',
    '  section end; exit 0',
    'fi',
    // the exit status travels behind the output, since a pipeline's status is head's
    `version=$( { ${cmd(['docker', 'version', '--format', '{{.Server.Version}}'])} 2>&1; echo " mrsk-status:$?"; } | capped)`,
    'case $version in',
    "  *' mrsk-status:0') version=${version%' mrsk-status:0'}; version_ok=1 ;;",
    "  *) version=${version%' mrsk-status:'*}; version_ok= ;;",
    'esac',
    'if [ -z "$version_ok" ]; then',
    '  section problem',
    '  case $version in',
    "    *'permission denied'*) echo permission-denied ;;",
    "    *'Cannot connect to the Docker daemon'*|*'Is the docker daemon running'*) echo docker-down ;;",
    `    *) if [ \${#version} -ge ${CAPTURE_LIMIT_BYTES} ]; then echo too-much-output; else echo error; fi ;;`,
    '  esac',
    "  section problem-detail; printf '%s\\n' \"$version\"",
    '  section end; exit 0',
    'fi',
    "section version; printf '%s\\n' \"$version\"",
    // the machine's architecture (uname -m), so a deploy builds the image for what the hosts run
    'section arch; uname -m 2>/dev/null',
    // our containers (any state), Kamal's of this service and the host's Traefik, each id once
    // every mrsk-made container as `id|service|destination`: ours are picked from it, and the other
    // apps on the host are named (remove leaves Traefik and the network to them)
    `apps=$(${cmd(listContainers({ label: [SERVICE_LABEL] }, { all: true, format: `{{.ID}}|{{.Label "${SERVICE_LABEL}"}}|{{.Label "${DESTINATION_LABEL}"}}` }))} 2>/dev/null | capped)`,
    `ids=$( { printf '%s\\n' "$apps" | awk -F'|' -v s=${shq(service)} -v d=${shq(destination ?? '')} '$2 == s && $3 == d { print $1 }'; ${cmd(listContainerIds(kamalFilters, { all: true }))}; ${cmd(listContainerIds(traefikFilter, { all: true }))}; } 2>/dev/null | capped | sort -u)`,
    'section apps',
    `printf '%s\\n' "$apps" | awk -F'|' -v s=${shq(service)} -v d=${shq(destination ?? '')} 'NF >= 2 && !($2 == s && $3 == d) { print ($3 == "" ? $2 : $2 "/" $3) }' | sort -u`,
    // one JSON line per container, without Config.Env (secret values from --env-file live there)
    'section containers',
    `if [ -n "$ids" ]; then ${cmd(inspectContainers([], { format: CONTAINER_SUMMARY_FORMAT }))} $ids 2>/dev/null; fi`,
    // images of every repository our containers were created from, plus the configured one
    `repos=$( { ${cmd(listContainers(serviceFilters, { all: true, format: '{{.Image}}' }))} 2>/dev/null | capped;` +
      `${options.imageRepo ? ` printf '%s\\n' ${shq(options.imageRepo)};` : ''} } | sed -e 's/@.*$//' -e 's/:[^:/]*$//' | sort -u)`,
    'set --',
    'for repo in $repos; do set -- "$@" --filter "reference=$repo"; done',
    'image_ids=',
    `if [ $# -gt 0 ]; then image_ids=$(${cmd(listImageIds([]))} "$@" 2>/dev/null | capped | sort -u); fi`,
    'section images',
    `if [ -n "$image_ids" ]; then ${cmd(inspectImages([], { format: IMAGE_SUMMARY_FORMAT }))} $image_ids 2>/dev/null; fi`,
    'section networks',
    `${cmd(listNetworks())} 2>/dev/null`,
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
    `if [ -n "$(${cmd(listContainerIds({ ...traefikFilter, status: 'running' }))} 2>/dev/null | capped)" ]; then`,
    `  section traefik-services; ${cmd(traefikApi(TRAEFIK_SERVICES_PATH))} 2>/dev/null`,
    `  section traefik-routers; ${cmd(traefikApi(TRAEFIK_ROUTERS_PATH))} 2>/dev/null`,
    'fi',
    'section end',
    'exit 0',
    '',
  ].join('\n');
}

