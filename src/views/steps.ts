// What each kind of step is called, written once for every view: the plan's verbose listing
// (`mrsk plan -v`) reads the full wording, live progress, the line-per-step log and the failure
// lines of a run read the short label. A new StepAction kind does not compile until it has a row.
//
// Where the two differ, the plan says what a reader checks before saying yes (timeouts, what
// else goes with a container, the files' modes) and the label fits a progress line. Tests and
// scripts wait for the labels (`wait until app-web-v2 is healthy ok`): change them with care.
import { displayHostPath } from '../desired/paths.ts';
import { TRAEFIK_DYNAMIC_HOST_DIR } from '../desired/proxy-routing.ts';
import { abbreviateVersions } from '../plan/short-version.ts';
import type { PlanStep, StepAction, StepKind } from '../plan/types.ts';

type ActionOf<K extends StepKind> = Extract<StepAction, { readonly kind: K }>;

interface Wording<K extends StepKind> {
  /** The plan's description of the operation. */
  readonly plan: (action: ActionOf<K>) => string;
  /** The progress label, when shorter than the plan's wording (else the plan's is used). */
  readonly label?: (action: ActionOf<K>) => string;
}

const WORDING: { readonly [K in StepKind]: Wording<K> } = {
  'network-create': { plan: (a) => `create network ${a.network}` },
  'image-pull': { plan: (a) => `pull ${a.image}` },
  'container-run': {
    plan: (a) =>
      a.replaces
        ? `rename the running ${a.spec.name} to ${a.replaces.renameTo}, then run ${a.spec.name} (${a.spec.image})`
        : `run ${a.spec.name} (${a.spec.image})`,
    label: (a) => `start ${a.spec.name}`,
  },
  'assets-prepare': {
    plan: (a) =>
      `copy ${a.assetPath} of ${a.image} to ~/${a.hostDir}${a.previousDirs.length > 0 ? `, merged with ${a.previousDirs.map((dir) => `~/${dir}`).join(', ')} both ways` : ''}`,
    label: (a) => `prepare assets of ${a.name}`,
  },
  'traefik-run': { plan: (a) => `run ${a.spec.name} (${a.spec.image})`, label: (a) => `start Traefik (${a.spec.image})` },
  'accessory-prepare': {
    plan: (a) =>
      [
        ...(a.directories.length > 0 ? [`create ${a.directories.map(displayHostPath).join(', ')}`] : []),
        ...a.files.map((f) => `upload ${f.localPath} to ${displayHostPath(f.hostPath)} (mode ${f.mode}${f.owner ? `, owner ${f.owner}` : ''})`),
      ].join('; ') || `prepare ${a.name}`,
    label: (a) => `prepare accessory ${a.name}`,
  },
  'accessory-run': {
    plan: (a) => `run ${a.spec.containerName} (${a.spec.image}${a.spec.ports.length > 0 ? `, publishes ${a.spec.ports.join(', ')}` : ''})`,
    label: (a) => `start ${a.spec.containerName}`,
  },
  'accessory-data-remove': {
    plan: (a) => `delete the data of ${a.name}: ${a.dirs.map(displayHostPath).join(', ')}`,
    label: (a) => `delete the data of ${a.name}`,
  },
  'container-start': { plan: (a) => `start ${a.name}` },
  'container-wait-healthy': {
    plan: (a) => `wait until ${a.name} is healthy, or up ${a.readinessDelay}s if it has no healthcheck (timeout ${a.timeout}s)`,
    label: (a) => `wait until ${a.name} is healthy`,
  },
  'traefik-wait-up': { plan: (a) => `wait until Traefik routes to ${a.name} (service ${a.service})`, label: (a) => `wait until Traefik routes to ${a.name}` },
  'container-drain': { plan: (a) => `drain ${a.name} from Traefik` },
  'container-stop': { plan: (a) => `stop ${a.name} (timeout ${a.timeout}s)`, label: (a) => `stop ${a.name}` },
  'container-remove': {
    plan: (a) => (a.assetsDir ? `remove ${a.name} and ~/${a.assetsDir}` : `remove ${a.name}`),
    label: (a) => `remove container ${a.name}`,
  },
  'image-remove': { plan: (a) => `remove image ${a.image}` },
  'release-record': { plan: (a) => `record release ${a.version}` },
  'network-remove': { plan: (a) => `remove network ${a.network}` },
  'podman-service-start': {
    plan: (a) => (a.how === 'systemd' ? "enable Podman's API socket (systemctl enable --now podman.socket) for Traefik" : "start mrsk's Podman keeper: Podman's API service for Traefik, and the containers' health checks (no systemd here)"),
    label: (a) => (a.how === 'systemd' ? "enable Podman's API socket" : "start Podman's API service and health checks"),
  },
  'podman-service-stop': { plan: () => "stop mrsk's Podman keeper and Podman's API service", label: () => "stop Podman's API service" },
  'traefik-wait-ready': { plan: (a) => `wait until Traefik answers /ping (timeout ${a.timeout}s)`, label: () => 'wait until Traefik answers' },
  'state-remove': { plan: (a) => `remove ~/${a.dir} (all but ${a.keep.join(', ')}, which goes with the lock)`, label: (a) => `remove ~/${a.dir}` },
  'registry-logout': { plan: (a) => `log out of ${a.server ?? 'Docker Hub'}` },
  'traefik-file-write': {
    plan: (a) =>
      `write ~/${TRAEFIK_DYNAMIC_HOST_DIR}/${a.file.name} (mode 0600${a.file.certificates.length > 0 ? `, ${a.file.certificates.length} certificate(s) from secrets, values hidden` : ''})`,
    label: (a) => `write Traefik's ${a.file.name}`,
  },
  'traefik-file-remove': { plan: (a) => `remove ~/${TRAEFIK_DYNAMIC_HOST_DIR}/${a.name}`, label: (a) => `remove Traefik's ${a.name}` },
};

// The table is keyed by kind, so each row takes its own kind's action; TypeScript cannot follow
// that through an index, hence the one widening here.
function wordingOf(action: StepAction): Wording<StepKind> {
  return WORDING[action.kind] as unknown as Wording<StepKind>;
}

/** The plan's description of one operation (the verbose listing under each resource). */
export function describeAction(action: StepAction): string {
  return wordingOf(action).plan(action);
}

/** A step's short label, versions abbreviated: progress lines, the listr2 tasks and failure lines. */
export function describeStep(step: PlanStep): string {
  const wording = wordingOf(step.action);
  return abbreviateVersions((wording.label ?? wording.plan)(step.action));
}
