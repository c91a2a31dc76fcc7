// inFlight (runtime/connections.ts) on what this machine's kernel says about real connections:
// an HTTP server on loopback with keep-alive, read with the same `ss -Htin` the drain runs inside
// a container's network namespace (here the test's own namespace, so no nsenter and no root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, Agent, type Server, type ServerResponse } from 'node:http';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { containerConnections, inFlight, type ConnectionLook } from '../../../src/runtime/connections.ts';

let server: Server;
let port: number;
const held: ServerResponse[] = [];
const streams = new Set<NodeJS.Timeout>();

before(async () => {
  server = createServer((req, res) => {
    req.resume();
    if (req.url === '/hold') {
      held.push(res); // answered by release()
    } else if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick\n'), 40);
      streams.add(timer);
      res.on('close', () => (clearInterval(timer), streams.delete(timer)));
    } else {
      req.on('end', () => res.end('ok'));
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  for (const timer of streams) clearInterval(timer);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** `ss -Htin` in this namespace: the argv the drain runs, without its nsenter prefix. */
async function look(): Promise<ConnectionLook> {
  const argv = containerConnections(1).slice(4);
  assert.equal(argv[0], 'ss');
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(argv[0]!, argv.slice(1), (error, out, err) => (error ? reject(new Error(`${argv.join(' ')}: ${err || error.message}`)) : resolve(out))));
  const found = inFlight(stdout, port);
  assert.ok(found, `ss printed what inFlight does not read:\n${stdout}`);
  return found;
}

/** Looks until `want` holds (deadline 3 s) and returns that look; fails with the last one. */
async function lookUntil(what: string, want: (l: ConnectionLook) => boolean): Promise<ConnectionLook> {
  const deadline = Date.now() + 3000;
  let last = await look();
  while (!want(last)) {
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last)} after 3 s`);
    await new Promise((r) => setTimeout(r, 20));
    last = await look();
  }
  return last;
}

function get(agent: Agent, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

test('no connection: nothing open, nothing busy', async () => {
  assert.deepEqual(await look(), { open: 0, busy: 0 });
});

test('a request the app holds is busy; answered on a kept-alive connection, it turns idle but stays open; a second request on it is busy again', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = get(agent, '/hold');
    await lookUntil('the held request seen as busy', (l) => l.open === 1 && l.busy === 1);
    held.shift()!.end('done');
    assert.equal(await first, 'done');
    // idle once its answer is RECENT_SEND_MS old; the connection is still open (keep-alive)
    assert.deepEqual(await lookUntil('the answered connection seen as idle', (l) => l.busy === 0), { open: 1, busy: 0 });
    const second = get(agent, '/hold');
    assert.deepEqual(await lookUntil('the second request seen as busy', (l) => l.busy === 1), { open: 1, busy: 1 });
    held.shift()!.end('done');
    assert.equal(await second, 'done');
    await lookUntil('idle again', (l) => l.busy === 0 && l.open === 1);
  } finally {
    agent.destroy();
  }
  await lookUntil('closed by the client: not counted', (l) => l.open === 0);
});

test('a request whose body is still coming is busy', async () => {
  const req = request({ host: '127.0.0.1', port, path: '/upload', method: 'POST', headers: { 'content-length': '10' } });
  req.on('error', () => {});
  req.write('12345'); // half the body; the server waits for the rest
  try {
    await lookUntil('the half-sent upload seen as busy', (l) => l.busy === 1);
    // and stays busy: nothing was answered
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await look()).busy, 1);
  } finally {
    req.destroy();
  }
  await lookUntil('closed', (l) => l.open === 0);
});

test('a streamed answer, written every 40 ms, is busy while it streams', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const req = request({ host: '127.0.0.1', port, path: '/stream', agent });
  req.on('response', (res) => res.resume());
  req.on('error', () => {});
  req.end();
  try {
    await lookUntil('the stream seen', (l) => l.open === 1);
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await look()).busy, 1, `look ${i + 1} while streaming`);
      await new Promise((r) => setTimeout(r, 60));
    }
  } finally {
    agent.destroy();
    req.destroy();
  }
  await lookUntil('closed', (l) => l.open === 0);
});
