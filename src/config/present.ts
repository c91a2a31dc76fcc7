// The resolved config as `mrsk config` shows it: snake_case keys like the file, secrets as
// [REDACTED] (only their names are visible), user-given maps (env, labels, options…) unchanged.
import { stringify } from 'yaml';
import { REDACTED, Secret } from '../secret.ts';
import type { Config } from './types.ts';

// Keys whose values are maps keyed by the user's words (names, hosts): their keys are shown as written.
const USER_MAPS = new Set(['clear', 'secret', 'labels', 'options', 'args', 'secrets', 'aliases', 'hostRuntimes', 'hostTags']);

/** Converts the Config into plain data for display (pure). Secret values never appear in it. */
export function presentConfig(config: Config): Record<string, unknown> {
  const { secrets: _all, file, root, ...rest } = config;
  void _all;
  // A user name read from a secret (`username: [NAME]`) is shown like one.
  const shown = rest.registry.usernameSecret ? { ...rest, registry: { ...rest.registry, username: REDACTED } } : rest;
  return { file, root, ...(convert(shown, false) as Record<string, unknown>) };
}

function convert(value: unknown, keepKeys: boolean): unknown {
  if (value instanceof Secret) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => convert(item, false));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[keepKeys ? key : snakeCase(key)] = convert(item, !keepKeys && USER_MAPS.has(key));
    }
    return out;
  }
  return value;
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** The config as YAML text, as `mrsk config` prints it. */
export function configToYaml(config: Config): string {
  return stringify(presentConfig(config), { lineWidth: 0 });
}

/** The config as JSON text, as `mrsk config --json` prints it. */
export function configToJson(config: Config): string {
  return `${JSON.stringify(presentConfig(config), null, 2)}\n`;
}
