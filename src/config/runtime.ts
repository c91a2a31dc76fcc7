// The container runtime the configuration asks of each host (placeholder until the config key lands).
import type { RuntimeWish } from '../runtime/runtime.ts';
import type { Config } from './types.ts';

/** What the configuration asks of a host: its own wish, else the top level's, else docker. */
export function runtimeWishOf(config: Config, host: string): RuntimeWish {
  const withRuntime = config as Config & { readonly runtime?: RuntimeWish; readonly hostRuntimes?: Readonly<Record<string, RuntimeWish>> };
  return withRuntime.hostRuntimes?.[host] ?? withRuntime.runtime ?? 'docker';
}
