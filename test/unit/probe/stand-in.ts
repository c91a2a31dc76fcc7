// Stand-in commands for running the probe script with a real sh: a PATH folder holding sh's own
// tools (symlinks to the real ones) plus stand-ins that log every call, one argv per line.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Separates the words of one logged call (no argv word the probe passes holds it). */
const WORD_SEPARATOR = '\x1f';

/** The tools the probe script runs besides the runtime (and sh, for the stand-ins and exec). */
const SH_TOOLS = ['sh', 'head', 'awk', 'sed', 'sort', 'cat', 'id', 'uname', 'kill', 'printf'];

export interface StandInBin {
  /** The folder to use as PATH. */
  readonly path: string;
  /** Every call of a stand-in so far, as argv (the stand-in's name first). */
  calls(): string[][];
}

/** A scratch folder for stand-in bins and homes; remove() when done. */
export class StandInRoot {
  readonly dir = mkdtempSync(join(tmpdir(), 'mrsk-probe-stand-in-'));
  private count = 0;

  /** A PATH folder with sh's tools and the given stand-ins (name -> sh body); each logs its argv. */
  bin(commands: Readonly<Record<string, string>>): StandInBin {
    const dir = join(this.dir, `bin${this.count++}`);
    mkdirSync(dir, { recursive: true });
    for (const tool of SH_TOOLS) {
      const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      if (real.startsWith('/')) symlinkSync(real, join(dir, tool));
    }
    const log = join(dir, 'calls');
    for (const [name, body] of Object.entries(commands)) {
      // printf, not echo: dash's echo would turn a `\n` inside an argument into a line break
      const record = `{ printf '%s' ${name}; for word in "$@"; do printf '\\037%s' "$word"; done; printf '\\n'; } >> '${log}'`;
      writeFileSync(join(dir, name), `#!/bin/sh\n${record}\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    }
    const calls = (): string[][] => {
      let text: string;
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        return [];
      }
      return text.split('\n').filter((line) => line !== '').map((line) => line.split(WORD_SEPARATOR));
    };
    return { path: dir, calls };
  }

  /** A fresh home folder. */
  home(): string {
    const dir = join(this.dir, `home${this.count++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Runs a script with a real /bin/sh, PATH and HOME only; returns its stdout. */
  run(script: string, path: string, home: string = this.home()): string {
    return execFileSync('/bin/sh', ['-c', script], { env: { PATH: path, HOME: home }, encoding: 'utf8' });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One row of the probe's container listing, in its column order. */
export interface ListedContainer {
  readonly id: string;
  readonly service?: string;
  readonly destination?: string;
  readonly kamalService?: string;
  readonly kamalDestination?: string;
  readonly name: string;
  readonly image?: string;
  /** Docker's `running`/`exited`/…, or Podman's ps `Up 3 minutes`/`Exited (0) …`. */
  readonly state?: string;
  /** What ps prints as its published ports, e.g. `0.0.0.0:80->80/tcp, 127.0.0.1:8080->8080/tcp`. */
  readonly ports?: string;
}

/** What a stand-in runtime answers. */
export interface RuntimeAnswers {
  readonly version?: string;
  /** The rows `ps -a` prints (tab-separated, as the probe's format asks). */
  readonly containers?: readonly ListedContainer[];
  /** The ids `image ls -q` prints. */
  readonly imageIds?: readonly string[];
  /**
   * Traefik's API answers by path prefix (`/api/http/services`, `/api/http/routers`), served by a
   * stand-in wget (inside `exec`, or the host's) and a stand-in curl (the host's).
   */
  readonly api?: Readonly<Record<string, string>>;
}

const shq = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The sh body of a stand-in docker or podman: version, ps -a, image ls -q answer as given; inspect,
 * image inspect and network ls print nothing; exec runs the command it is given (sh -c …) on the
 * same PATH, where a stand-in wget answers from `api`.
 */
export function runtimeStandIn(rt: 'docker' | 'podman', answers: RuntimeAnswers): Record<string, string> {
  const rows = (answers.containers ?? []).map((c) =>
    [c.id, c.service ?? '', c.destination ?? '', c.kamalService ?? '', c.kamalDestination ?? '', c.name, c.image ?? 'busybox:1', c.state ?? 'running', c.ports ?? ''].join('\t'),
  );
  const print = (lines: readonly string[]) => (lines.length === 0 ? ':' : `printf '%s\\n' ${lines.map(shq).join(' ')}`);
  const runtime = [
    'case "$1" in',
    `  version) echo ${shq(answers.version ?? '27.0.1')} ;;`,
    `  ps) ${print(rows)} ;;`,
    `  image) case "$2" in ls) ${print(answers.imageIds ?? [])} ;; esac ;;`,
    '  exec) shift 2; exec "$@" ;;',
    'esac',
  ].join('\n');
  const http = [
    // wget -q -O - URL, curl -fsS … URL: the URL is the last word
    'for url in "$@"; do :; done',
    'case "$url" in',
    ...Object.entries(answers.api ?? {}).map(([path, body]) => `  *${shq(path)}*) printf '%s' ${shq(body)} ;;`),
    '  *) exit 1 ;;',
    'esac',
  ].join('\n');
  return { [rt]: runtime, wget: http, curl: http };
}
