// The only module that writes to the terminal. Commands get an Output and never call console.*.
import { sanitizeHostText } from '../text/sanitize.ts';
import { painter, type Colour } from '../views/paint.ts';
export interface OutputOptions {
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly json?: boolean;
  /** Environment to read COLUMNS from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Columns to fit tables into: $COLUMNS when set, else the terminal's width. Undefined for a pipe
 * or a CI log: nothing wraps there, so tables keep whole rows for grep and `less -S` (plans are
 * always fitted to 80 columns).
 */
export function outputWidth(stdout: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fromEnv = Number.parseInt(env.COLUMNS ?? '', 10);
  if (fromEnv > 0) return fromEnv;
  if (stdout.isTTY && stdout.columns && stdout.columns > 0) return stdout.columns;
  return undefined;
}

/** CI=true (or 1), as GitHub Actions, GitLab CI and most CI services set it: no colour, no animation. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

export class Output {
  readonly isTTY: boolean;
  readonly color: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly json: boolean;
  /** Whether progress may redraw in place (listr2): an interactive terminal, no CI log, no --json. */
  readonly live: boolean;
  /** Columns tables and plans fit into; undefined when output is no terminal (see outputWidth). */
  readonly width: number | undefined;
  readonly #stdout: NodeJS.WritableStream;
  /** With --quiet: the last status line, printed by finish(). */
  #held: string | undefined;
  readonly #stderr: NodeJS.WritableStream;

  constructor(options: OutputOptions = {}, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr) {
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.isTTY = Boolean(stdout.isTTY);
    // Colours only on a terminal, never with NO_COLOR (https://no-color.org), never in CI logs
    // (CI=true: some runners give a pseudo-terminal whose log keeps the escape codes).
    this.color = this.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb' && !isCi(process.env);
    this.quiet = Boolean(options.quiet);
    this.verbose = Boolean(options.verbose);
    this.json = Boolean(options.json);
    this.live = this.isTTY && !isCi(process.env) && !this.json;
    this.width = outputWidth(stdout, options.env);
  }

  /** Main results (tables, YAML, JSON): always printed, even with --quiet. Plans are skipped with --quiet by their callers. */
  print(text: string): void {
    this.#stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * Progress and status lines (to stderr in --json mode). With --quiet only the last one is
   * printed, when the command ends (finish): a command's last status line is its summary
   * (`Deployed … in 42s`, `Apply complete: …`), and quiet means that line and errors only.
   */
  info(text: string): void {
    if (this.quiet) {
      this.#held = text;
      return;
    }
    (this.json ? this.#stderr : this.#stdout).write(`${text}\n`);
  }

  /** The command ended without an error: with --quiet, print its last status line now. */
  finish(): void {
    if (this.#held === undefined) return;
    const text = this.#held;
    this.#held = undefined;
    (this.json ? this.#stderr : this.#stdout).write(`${text}\n`);
  }

  /** Detail shown only with --verbose, on stderr. */
  debug(text: string): void {
    if (this.verbose) this.#stderr.write(`${text}\n`);
  }

  // Warnings and errors often quote a host (stderr, a file, a parse error's excerpt): whatever
  // a caller missed, no terminal control sequence from a host is printed through them.
  warn(text: string): void {
    this.#stderr.write(`${this.paint('yellow', 'warning:')} ${sanitizeHostText(text)}\n`);
  }

  error(text: string): void {
    this.#stderr.write(`${this.paint('red', 'error:')} ${sanitizeHostText(text)}\n`);
  }

  printJson(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Colours text when this output is coloured (the views' one painter, src/views/paint.ts). */
  paint(colour: Colour, text: string): string {
    return painter(this.color)(colour, text);
  }

  get stdout(): NodeJS.WritableStream {
    return this.#stdout;
  }
  get stderr(): NodeJS.WritableStream {
    return this.#stderr;
  }
}
