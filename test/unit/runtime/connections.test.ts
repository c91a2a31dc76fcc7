// The look at a container's connections that ends a drain's grace early (runtime/connections.ts).
// The ss lines are shaped as iproute2 6.1 prints them (`ss -Htin`); the first is a real capture of
// busybox httpd running a CGI that had not answered yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerConnections, inFlight, RECENT_SEND_MS } from '../../../src/runtime/connections.ts';

const INFO = 'bbr wscale:10,10 rto:204 rtt:0.027/0.013 ato:40 mss:1448 pmtu:1500 rcvmss:536 advmss:1448 cwnd:10';
const estab = (local: string, info: string, queues = '0      0') => `ESTAB ${queues}      ${local} [::ffff:172.17.0.1]:56168\n\t ${INFO} ${info} rcv_space:14480 snd_wnd:64512\n`;
const APP = '[::ffff:172.17.0.2]:3000';

test('the argv enters the process\'s network namespace and asks ss for TCP sockets with their info, numeric, no header', () => {
  assert.deepEqual(containerConnections(4242), ['nsenter', '-t', '4242', '-n', 'ss', '-H', '-t', '-i', '-n']);
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => containerConnections(bad), RangeError);
});

test('a request read and not answered (captured): busy, although its times tie', () => {
  const captured = estab(APP, 'bytes_received:90 segs_out:1 segs_in:3 data_segs_in:1 send 4290370370bps lastsnd:508 lastrcv:508 lastack:508 delivered:1 app_limited');
  assert.deepEqual(inFlight(captured, 3000), { open: 1, busy: 1 });
});

test('a keep-alive connection idle after its answer is not busy; the same one is when its answer is recent', () => {
  const idle = (lastsnd: number) => estab('172.18.0.2:3000', `bytes_sent:300 bytes_acked:301 bytes_received:90 lastsnd:${lastsnd} lastrcv:${lastsnd + 3} lastack:${lastsnd}`);
  assert.deepEqual(inFlight(idle(400), 3000), { open: 1, busy: 0 });
  assert.deepEqual(inFlight(idle(RECENT_SEND_MS), 3000), { open: 1, busy: 0 });
  assert.deepEqual(inFlight(idle(RECENT_SEND_MS - 1), 3000), { open: 1, busy: 1 }, 'a streamed answer still being written');
  assert.deepEqual(inFlight(idle(400), 3000, 1000), { open: 1, busy: 1 }, 'the threshold is the caller\'s');
});

test('what makes an established connection busy', () => {
  const cases: [string, string, string?][] = [
    ['a second request on a kept-alive connection (data in after the last data out)', 'bytes_sent:300 bytes_received:180 lastsnd:900 lastrcv:400'],
    ['a tie in ms after an answer (nobody can tell)', 'bytes_sent:300 bytes_received:90 lastsnd:400 lastrcv:400'],
    ['an answer written just now (ss omits a zero lastsnd)', 'bytes_sent:300 bytes_received:90 lastrcv:400'],
    ['nothing exchanged yet (Traefik connected, its request is on the way)', ''],
    ['data not acknowledged', 'bytes_sent:300 bytes_received:90 unacked:1 lastsnd:400 lastrcv:900'],
    ['data the app wrote, not sent yet', 'bytes_sent:300 bytes_received:90 notsent:512 lastsnd:400 lastrcv:900'],
    ['a count that is not a number', 'bytes_sent:lots bytes_received:90 lastsnd:400 lastrcv:900'],
    ['an answer queued (Send-Q)', 'bytes_sent:300 bytes_received:90 lastsnd:400 lastrcv:900', '0      4096'],
    ['a request not read yet (Recv-Q)', 'bytes_sent:300 bytes_received:90 lastsnd:400 lastrcv:900', '512    0'],
  ];
  for (const [what, info, queues] of cases) assert.deepEqual(inFlight(estab(APP, info, queues), 3000), { open: 1, busy: 1 }, what);
  assert.deepEqual(inFlight(`ESTAB 0 0 ${APP} 172.17.0.1:5\n`, 3000), { open: 1, busy: 1 }, 'no info line: nothing says it is idle');
});

test('states: the closing ones the server still sends in are busy, the finished ones and listeners do not count', () => {
  const line = (state: string) => `${state} 0 0 ${APP} [::ffff:172.17.0.1]:1\n\t bbr cwnd:10\n`;
  for (const state of ['SYN-RECV', 'CLOSE-WAIT', 'FIN-WAIT-1', 'LAST-ACK', 'CLOSING', 'SOMETHING-NEW']) assert.deepEqual(inFlight(line(state), 3000), { open: 1, busy: 1 }, state);
  for (const state of ['FIN-WAIT-2', 'TIME-WAIT', 'LISTEN', 'CLOSED', 'UNCONN']) assert.deepEqual(inFlight(line(state), 3000), { open: 0, busy: 0 }, state);
});

test('only the app\'s port counts, in every address form', () => {
  const busy = 'bytes_received:90 lastsnd:508 lastrcv:508';
  const output = [estab('172.18.0.2:3000', busy), estab('[::1]:3000', busy), estab('*:3000', busy), estab('172.18.0.2:30000', busy), estab('172.18.0.2:8080', busy), estab('10.0.0.3:45000', busy)].join('');
  assert.deepEqual(inFlight(output, 3000), { open: 3, busy: 3 });
  assert.deepEqual(inFlight(output, 8080), { open: 1, busy: 1 });
  assert.deepEqual(inFlight(output, 5000), { open: 0, busy: 0 });
});

test('no connections: nothing in flight; output ss does not print: undefined (the caller waits the whole grace)', () => {
  assert.deepEqual(inFlight('', 3000), { open: 0, busy: 0 });
  assert.deepEqual(inFlight('\n\n', 3000), { open: 0, busy: 0 });
  for (const bad of ['\t bbr cwnd:10\n', 'nsenter: cannot open /proc/1/ns/net: Permission denied\n', 'ESTAB x 0 a:1 b:2\n', 'State Recv-Q Send-Q Local Peer\n', 'ESTAB 0 0\n']) {
    assert.equal(inFlight(bad, 3000), undefined, JSON.stringify(bad));
  }
});
