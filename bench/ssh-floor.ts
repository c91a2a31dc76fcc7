// bench/ssh-floor.ts — what one SSH connection costs on its own, the reference for bench/fleet.ts's
// "CPU per host": log in to every host given and run `true`, at most MAX at once, with nothing of
// mrsk's planning around it. bench/fleet.ts runs it under bench/rusage.py, with no hosts for its
// start-up, and prints (CPU − start-up CPU) / hosts.
//   node --import tsx bench/ssh-floor.ts ssh2|ssh2-lean KEY KNOWN_HOSTS MAX [HOST...]
// ssh2: the library as it comes. ssh2-lean: with the two per-connection savings mrsk's runner makes
// (src/ssh/fast-key.ts: a key parsed once, no host key proof round). The host key is checked
// against KNOWN_HOSTS (the fleet has one host key) in both.
import { readFileSync } from 'node:fs';
import ssh2, { type AnyAuthMethod, type ConnectConfig } from 'ssh2';
import { fastSigningKey, skipHostKeysProof } from '../src/ssh/fast-key.ts';

const [mode, keyFile, knownHostsFile, max, ...hosts] = process.argv.slice(2);
if ((mode !== 'ssh2' && mode !== 'ssh2-lean') || !keyFile || !knownHostsFile || !max) {
  console.error('usage: ssh-floor.ts ssh2|ssh2-lean KEY KNOWN_HOSTS MAX [HOST...]');
  process.exit(2);
}
const lean = mode === 'ssh2-lean';
const { Client, utils } = ssh2; // a CommonJS module: no named exports under Node's ESM loader
const keyText = readFileSync(keyFile);
const parsed = utils.parseKey(keyText);
if (parsed instanceof Error) throw parsed;
const fastKey = fastSigningKey(Array.isArray(parsed) ? parsed[0]! : parsed);
// every fleet host presents the same key; known_hosts lines are "HOST TYPE BASE64"
const known = new Set(
  readFileSync(knownHostsFile, 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[2])
    .filter(Boolean),
);

function once(host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const config: ConnectConfig = {
      host,
      username: 'root',
      // ssh2 takes a parsed key through authHandler, as mrsk's runner hands it over
      ...(lean ? { authHandler: [{ type: 'publickey', username: 'root', key: fastKey } as unknown as AnyAuthMethod] } : { privateKey: keyText }),
      hostVerifier: (blob: Buffer) => known.has(blob.toString('base64')),
      readyTimeout: 30_000,
    };
    client.on('error', reject);
    client.on('ready', () => {
      client.exec('true', (error, stream) => {
        if (error) return reject(error);
        stream.resume();
        stream.on('close', (code: number) => {
          client.end();
          if (code === 0) resolve();
          else reject(new Error(`${host}: true exited ${code}`));
        });
      });
    });
    client.connect(config);
    if (lean) skipHostKeysProof(client);
  });
}

let next = 0;
await Promise.all(
  Array.from({ length: Math.min(Number(max), hosts.length) }, async () => {
    while (next < hosts.length) await once(hosts[next++]!);
  }),
);
