// Whether a container still answers requests: its TCP connections on the app's port, read from
// inside its network namespace with `ss` (iproute2), and judged by what the kernel knows of each
// one. The drain's grace uses it to stop an old container as soon as it has nothing in flight
// instead of always waiting the whole grace. Entering another process's network namespace needs
// root; where it fails, the caller waits the whole grace as before.
import type { Argv } from './argv.ts';

/** A connection whose last write is more recent than this still counts as answering (a streamed response). */
export const RECENT_SEND_MS = 100;

/** The TCP sockets of the network namespace of process `pid`, with the kernel's TCP info (`ss -tin`, no header). */
export function containerConnections(pid: number): Argv {
  if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`not a process id: ${pid}`);
  return ['nsenter', '-t', String(pid), '-n', 'ss', '-H', '-t', '-i', '-n'];
}

/** What `inFlight` found on the port: connections open, and those that may carry a request not yet answered. */
export interface ConnectionLook {
  readonly open: number;
  readonly busy: number;
}

// Done on the server's side. Every other state but ESTAB is busy: SYN-RECV (not accepted yet),
// CLOSE-WAIT (the peer is done, the app is still to answer and close), FIN-WAIT-1, LAST-ACK and
// CLOSING (the kernel is still sending what the app wrote).
const DONE_STATES = new Set(['FIN-WAIT-2', 'TIME-WAIT', 'CLOSED', 'LISTEN', 'UNCONN']);

/**
 * Reads `ss -Htin` output (containerConnections) for the connections whose local port is `port`.
 * An established connection counts as busy unless all of this holds: nothing queued or unacked,
 * it has answered something (bytes_sent), its last data out came strictly after its last data in
 * (the answer after the request; a tie in ms is not telling), and that was RECENT_SEND_MS ago or
 * more. So a keep-alive connection idle after its answer is not busy; one with a request read
 * and no answer yet is. Undefined when the output is not what ss prints (then nobody can tell).
 */
export function inFlight(output: string, port: number, recentMs: number = RECENT_SEND_MS): ConnectionLook | undefined {
  const sockets: { state: string; recvQ: number; sendQ: number; local: string; info: Map<string, string> | undefined }[] = [];
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      const last = sockets.at(-1);
      if (!last) return undefined;
      last.info ??= new Map();
      for (const token of line.trim().split(/\s+/)) {
        const colon = token.indexOf(':');
        if (colon > 0) last.info.set(token.slice(0, colon), token.slice(colon + 1));
      }
      continue;
    }
    const [state, recvQ, sendQ, local] = line.trim().split(/\s+/);
    if (!state || !local || !/^\d+$/.test(recvQ ?? '') || !/^\d+$/.test(sendQ ?? '') || !/^[A-Z][A-Z0-9-]*$/.test(state)) return undefined;
    sockets.push({ state, recvQ: Number(recvQ), sendQ: Number(sendQ), local, info: undefined });
  }
  let open = 0;
  let busy = 0;
  for (const socket of sockets) {
    if (localPort(socket.local) !== port) continue;
    if (DONE_STATES.has(socket.state)) continue;
    open += 1;
    if (socket.state !== 'ESTAB' || socket.recvQ > 0 || socket.sendQ > 0 || !socket.info) {
      busy += 1;
      continue;
    }
    // ss prints these only when not zero
    const count = (key: string) => {
      const value = Number(socket.info!.get(key) ?? 0);
      return Number.isFinite(value) ? value : Number.NaN;
    };
    const sent = count('bytes_sent');
    const lastSend = count('lastsnd');
    const lastReceive = count('lastrcv');
    const answered = sent > 0 && lastSend < lastReceive && lastSend >= recentMs;
    if (!answered || count('unacked') > 0 || count('notsent') > 0) busy += 1;
  }
  return { open, busy };
}

/** The port of an ss address column: `10.0.0.2:3000`, `[::ffff:10.0.0.2]:3000`, `*:3000`. */
function localPort(address: string): number | undefined {
  const match = /:(\d+)$/.exec(address);
  return match ? Number(match[1]) : undefined;
}
