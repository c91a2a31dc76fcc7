// After login, OpenSSH's sshd announces its host keys; ssh2 by itself then asks it to prove each
// one (sshd signs with every host key), a round of work on both sides that mrsk has no use for.
// A real sshd's debug log shows which clients asked: ssh2 as it comes does, mrsk's runner does not,
// and its commands still run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { createSshRunner } from '../../../src/ssh/runner.ts';
import { startSshd } from '../../helpers/sshd.ts';
import type { TestSshd } from '../../helpers/sshd.ts';
import { optionsFor, tempHome } from './setup.ts';

const PROOF = /hostkeys-prove-00@openssh\.com/g;
let sshd: TestSshd;
let home: ReturnType<typeof tempHome>;

before(async () => {
  sshd = await startSshd({ logLevel: 'DEBUG1' });
  home = tempHome();
});
after(async () => {
  await sshd?.stop();
  home?.remove();
});

/** One login and `true` with ssh2 as it comes (no mrsk in between). */
function plainSsh2Login(): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () =>
      client.exec('true', (error, stream) => {
        if (error) return reject(error);
        stream.resume();
        stream.on('close', () => {
          client.end();
          resolve();
        });
      }),
    );
    client.connect({ host: '127.0.0.1', port: sshd.port, username: 'root', privateKey: readFileSync(sshd.clientKeyPath), hostVerifier: () => true });
  });
}

describe('host key announcement', () => {
  it("is answered without asking sshd to prove its keys, and the host's commands run", async () => {
    const runner = createSshRunner(optionsFor(sshd, home.path));
    try {
      assert.deepEqual(await runner.exec('127.0.0.1', { script: 'echo ran' }), { code: 0, stdout: 'ran\n', stderr: '' });
    } finally {
      await runner.close();
    }
    // sshd logged mrsk's session; now ssh2 alone, which asks: the log can show a proof request
    await plainSsh2Login();
    await sshd.waitForLog(PROOF, 10_000);
    assert.equal(sshd.log().match(PROOF)?.length, 1, `only ssh2's own login asked for the proof:\n${sshd.log()}`);
  });
});
