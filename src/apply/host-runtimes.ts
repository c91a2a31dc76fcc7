// Which container runtime each host runs, as far as this run knows: what the configuration asks
// (docker or podman), else what the probe found (`auto`), else what a one-line check finds.
import { InternalError } from '../errors.ts';
import { PICK_RUNTIME_SH, type RuntimeName, type RuntimeWish } from '../runtime/runtime.ts';
import type { Runner } from '../ssh/types.ts';

/** The shell check `auto` uses when no probe has run: the probe's own pick. */
export const DETECT_RUNTIME_SCRIPT = `${PICK_RUNTIME_SH}; echo "\${rt:-none}"`;

export class HostRuntimes {
  private readonly found = new Map<string, RuntimeName>();

  constructor(private readonly wishOf: (host: string) => RuntimeWish = () => 'docker') {}

  /** What the configuration asks of this host. */
  wish(host: string): RuntimeWish {
    return this.wishOf(host);
  }

  /** What a probe found on the host (it followed the wish, or picked one for `auto`). */
  record(host: string, runtime: RuntimeName): void {
    this.found.set(host, runtime);
  }

  /** The host's runtime when it is known without asking the host. */
  known(host: string): RuntimeName | undefined {
    const found = this.found.get(host);
    if (found) return found;
    const wish = this.wishOf(host);
    return wish === 'auto' ? undefined : wish;
  }

  /** The host's runtime; a host with `auto` must have been probed (or resolved) first. */
  of(host: string): RuntimeName {
    const runtime = this.known(host);
    if (!runtime) throw new InternalError(`${host}: its runtime is \`auto\` and nothing has looked at the host yet`);
    return runtime;
  }

  /** The host's runtime, asking the host with a one-line check when the configuration says `auto`. */
  async resolve(runner: Runner, host: string, signal?: AbortSignal): Promise<RuntimeName> {
    const known = this.known(host);
    if (known) return known;
    const result = await runner.exec(host, { script: DETECT_RUNTIME_SCRIPT }, { signal });
    const said = result.stdout.trim();
    // no runtime at all: the command that follows fails with the runtime's own "not found", as with docker
    const runtime: RuntimeName = said === 'podman' ? 'podman' : 'docker';
    this.found.set(host, runtime);
    return runtime;
  }
}
