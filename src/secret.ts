import { inspect } from 'node:util';

/**
 * A secret value. It prints as [REDACTED] in every form (String(), JSON, util.inspect, template
 * literals), so it cannot leak through a plan, a log line or an error by accident; the value is
 * only reachable through reveal(), which is called where it is written to a 0600 env file or
 * piped to `docker login --password-stdin`.
 */
export class Secret {
  readonly name: string;
  readonly #value: string;
  constructor(name: string, value: string) {
    this.name = name;
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[REDACTED]';
  }
  toJSON(): string {
    return '[REDACTED]';
  }
  [inspect.custom](): string {
    return '[REDACTED]';
  }
}

export const REDACTED = '[REDACTED]';

/** Replaces every occurrence of each secret value in text (for remote stderr echoed back to users). */
export function redact(text: string, secrets: Iterable<Secret>): string {
  let out = text;
  for (const secret of secrets) {
    const value = secret.reveal();
    if (value.length >= 3) out = out.split(value).join(REDACTED);
  }
  return out;
}
