// `options:` maps from config → docker run argv. Pure; the docker builders append the result as is.
import type { DockerOptions, TraefikArgValue } from '../config/types.ts';

/**
 * Expands an options map to argv in config order: `{ memory: '1g', 'add-host': ['a:1', 'b:2'], init: true }`
 * → `['--memory', '1g', '--add-host', 'a:1', '--add-host', 'b:2', '--init']`. `false` drops the flag.
 */
export function expandDockerOptions(options: DockerOptions): string[] {
  const argv: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    const flag = key.startsWith('-') ? key : `--${key}`;
    if (value === true) argv.push(flag);
    else if (value === false) continue;
    else if (Array.isArray(value)) for (const item of value) argv.push(flag, String(item));
    else argv.push(flag, String(value));
  }
  return argv;
}

/**
 * Expands Traefik's `args:` map to `--key=value` flags (`true` → bare `--key`, `false` → `--key=false`,
 * a list → the flag once per item, as Kamal's args lists), because Traefik's CLI parser only reads
 * the `=` form reliably for booleans.
 */
export function expandTraefikArgs(args: Readonly<Record<string, TraefikArgValue>>): string[] {
  return Object.entries(args).flatMap(([key, value]) => {
    const flag = key.startsWith('--') ? key : `--${key}`;
    const one = (item: string | number | boolean) => (item === true ? flag : `${flag}=${String(item)}`);
    return Array.isArray(value) ? value.map(one) : [one(value as string | number | boolean)];
  });
}
