// The `host` format of the config schema: what a `servers` list may hold. Its own module so the
// validator generated at build time (dist/config/deploy-validator.js) can import it.
import { isIP } from 'node:net';

const HOSTNAME_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** True for an IPv4/IPv6 address or an RFC 1123 host name (what `servers` lists may hold). */
export function isHost(value: string): boolean {
  if (isIP(value) !== 0) return true;
  if (value.length === 0 || value.length > 253) return false;
  return value.split('.').every((label) => HOSTNAME_LABEL.test(label)) && !/^[0-9.]+$/.test(value);
}
