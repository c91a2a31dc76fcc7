// The container runtime a host runs: Docker or Podman. Every command a host's runtime gets is
// built in this folder from a RuntimeName; nothing outside it spells a runtime's command line.

/** The runtimes mrsk drives on hosts. The name is also the runtime's command. */
export type RuntimeName = 'docker' | 'podman';

/** What the configuration asks of a host: one runtime, or `auto` (the probe picks what the host has). */
export type RuntimeWish = RuntimeName | 'auto';

export const RUNTIME_NAMES: readonly RuntimeName[] = ['docker', 'podman'];
export const RUNTIME_WISHES: readonly RuntimeWish[] = ['docker', 'podman', 'auto'];

/** How a runtime differs where mrsk cares. */
export interface RuntimeTraits {
  /** Its name as users read it. */
  readonly title: string;
  /**
   * Host path of its Docker-compatible API socket, which Traefik's Docker provider reads (mounted
   * as /var/run/docker.sock in Traefik's container). Podman's is served by `podman system service`.
   */
  readonly apiSocket: string;
  /**
   * Whether the runtime runs containers' health checks by itself. Podman schedules them with
   * systemd timers, so on a host without systemd nobody runs them: mrsk runs them while it waits
   * for a container, and its keeper on the host runs them between deploys.
   */
  readonly runsHealthChecks: 'always' | 'with-systemd';
  /** Debian/Ubuntu package `mrsk setup` installs when the host has no runtime (root only). */
  readonly aptPackage: string;
  /** dnf package (Fedora, RHEL, Rocky). */
  readonly dnfPackage: string;
  /** apk package (Alpine). */
  readonly apkPackage: string;
}

export const RUNTIMES: Readonly<Record<RuntimeName, RuntimeTraits>> = {
  docker: {
    title: 'Docker',
    apiSocket: '/var/run/docker.sock',
    runsHealthChecks: 'always',
    aptPackage: 'docker.io',
    dnfPackage: 'docker',
    apkPackage: 'docker',
  },
  podman: {
    title: 'Podman',
    apiSocket: '/run/podman/podman.sock',
    runsHealthChecks: 'with-systemd',
    aptPackage: 'podman',
    dnfPackage: 'podman',
    apkPackage: 'podman',
  },
};

/** `version` of the runtime's engine: exits non-zero when it cannot be used (no daemon, no permission). */
export function runtimeVersion(rt: RuntimeName): readonly string[] {
  return [rt, 'version', '--format', '{{.Server.Version}}'];
}

/**
 * What `auto` picks, as a POSIX sh fragment setting $rt (empty when there is none): Docker when its
 * engine answers, else Podman when it is installed, else Docker when only its command is there (so
 * its own error is reported). A host may have the docker command without a daemon (a Podman host
 * with a docker client), so the command alone does not decide.
 */
export const PICK_RUNTIME_SH =
  "if command -v docker >/dev/null 2>&1 && docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then rt=docker; " +
  'elif command -v podman >/dev/null 2>&1; then rt=podman; elif command -v docker >/dev/null 2>&1; then rt=docker; else rt=; fi';

/** An image id rather than a name: `sha256:<hex>` or bare hex (12 to 64 digits). */
function isImageId(ref: string): boolean {
  return ref.startsWith('sha256:') || /^[0-9a-f]{12,64}$/.test(ref);
}

/**
 * An image reference as the runtime should be given it. Docker reads a Docker Hub short name
 * (`traefik:v3.6`, `acme/app`) as docker.io's; Podman resolves short names through its
 * registries.conf, which may have no search registry at all ("did not resolve to an alias"), so
 * Podman gets the qualified name (`docker.io/library/traefik:v3.6`). Ids and qualified names pass.
 */
export function imageRef(rt: RuntimeName, ref: string): string {
  if (rt === 'docker' || isImageId(ref)) return ref;
  const first = ref.split('/')[0]!;
  if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/** The reverse, for what Podman reports: a Docker Hub name in Docker's short form (`docker.io/library/x` → `x`). */
export function familiarImageName(ref: string): string {
  if (ref.startsWith('docker.io/library/')) return ref.slice('docker.io/library/'.length);
  if (ref.startsWith('docker.io/')) return ref.slice('docker.io/'.length);
  return ref;
}

export function isRuntimeName(value: unknown): value is RuntimeName {
  return value === 'docker' || value === 'podman';
}
