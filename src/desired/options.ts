// `options:` maps from config → docker run argv. Pure; the docker builders append the result as is.
import type { DockerOptions } from '../config/types.ts';

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
 * Expands Traefik's `args:` map to `--key=value` flags (`true` → bare `--key`, `false` → `--key=false`),
 * because Traefik's CLI parser only reads the `=` form reliably for booleans.
 */
export function expandTraefikArgs(args: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(args).map(([key, value]) => {
    const flag = key.startsWith('--') ? key : `--${key}`;
    return value === true ? flag : `${flag}=${String(value)}`;
  });
}
