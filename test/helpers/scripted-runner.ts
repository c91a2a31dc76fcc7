// A Runner that stands in for hosts in unit tests: every command is answered from rules the
// test sets up (argv exact or by prefix, a predicate over a `{script}`), and every call is
// recorded with its host, in order. A command no rule answers is a test failure: it is thrown
// as an AssertionError and kept in `unexpected`, so that code which swallows errors (clean-up,
// best-effort inspects) cannot hide it; `assertNoUnexpected()` checks that at the end.
import assert, { AssertionError } from 'node:assert/strict';
import { commandToShell } from '../../src/shell/quote.ts';
import type { Command, ExecOptions, ExecResult, Runner } from '../../src/ssh/types.ts';

/** One command the code under test ran. */
export interface ScriptedCall {
  readonly host: string;
  readonly command: Command;
  /** The argv, for an argv command. */
  readonly argv?: readonly string[];
  /** The script, for a `{script}` command. */
  readonly script?: string;
  /** The shell line the SSH runner would send (for messages and quick assertions). */
  readonly line: string;
  readonly stdin?: string;
  readonly options: ExecOptions;
}

/** An answer: a result (any exit code), an error to reject with (a lost connection, a timeout), or one computed from the call. */
export type ScriptedAnswer = ExecResult | Error;
/** `count` is how many calls this rule has answered, this one included (1 for the first). */
export type ScriptedReply = ScriptedAnswer | ((call: ScriptedCall, count: number) => ScriptedAnswer | undefined | Promise<ScriptedAnswer | undefined>);

/** Which commands a rule answers; every field given must hold. */
export interface ScriptedMatch {
  readonly host?: string;
  /** The argv, word for word. */
  readonly argv?: readonly string[];
  /** The first words of the argv. */
  readonly prefix?: readonly string[];
  /** A `{script}` command: its exact text, a pattern, or a predicate. */
  readonly script?: string | RegExp | ((script: string) => boolean);
}

interface Rule {
  readonly match: ScriptedMatch;
  readonly reply: ScriptedReply;
  /** Answers at most this many calls (then the next rule is tried). */
  readonly times: number;
  count: number;
}

export interface ScriptedUpload {
  readonly host: string;
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
export const fail = (stderr: string, code = 1): ExecResult => ({ code, stdout: '', stderr });

function matches(match: ScriptedMatch, call: ScriptedCall): boolean {
  if (match.host !== undefined && match.host !== call.host) return false;
  if (match.argv !== undefined && (!call.argv || call.argv.length !== match.argv.length || match.argv.some((word, i) => call.argv![i] !== word))) return false;
  if (match.prefix !== undefined && (!call.argv || match.prefix.some((word, i) => call.argv![i] !== word))) return false;
  if (match.script !== undefined) {
    if (call.script === undefined) return false;
    const test = match.script;
    if (typeof test === 'string' ? test !== call.script : test instanceof RegExp ? !test.test(call.script) : !test(call.script)) return false;
  }
  return true;
}

export class ScriptedRunner implements Runner {
  readonly #rules: Rule[] = [];
  /** Every exec, in order (answered or not). */
  readonly calls: ScriptedCall[] = [];
  /** Calls no rule answered. */
  readonly unexpected: ScriptedCall[] = [];
  readonly uploads: ScriptedUpload[] = [];
  #uploadFault?: (upload: ScriptedUpload) => Error | undefined;
  readonly commandTimeoutMs?: number;

  /**
   * Answers the commands `match` selects with `reply`. Rules are tried in the order they were
   * added; the first whose reply is not undefined answers. `times` bounds how often a rule answers.
   */
  on(match: ScriptedMatch, reply: ScriptedReply, options: { times?: number } = {}): this {
    this.#rules.push({ match, reply, times: options.times ?? Infinity, count: 0 });
    return this;
  }

  /** Shorthand: this exact argv (on any host) answers `reply`. */
  onArgv(argv: readonly string[], reply: ScriptedReply, options: { times?: number } = {}): this {
    return this.on({ argv }, reply, options);
  }

  /** Makes uploads fail when `fault` returns an error (they succeed and are recorded otherwise). */
  failUploads(fault: (upload: ScriptedUpload) => Error | undefined): this {
    this.#uploadFault = fault;
    return this;
  }

  async exec(host: string, command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    // A script that waits on the host and then prints what one argv prints is answered as one
    // run of that argv (the wait itself is the host's; test/integration runs it in a real shell).
    if (!Array.isArray(command) && (command as { answersAs?: readonly string[] }).answersAs) command = (command as { answersAs: readonly string[] }).answersAs;
    const isArgv = Array.isArray(command);
    const stdin = options.stdin === undefined ? undefined : String(options.stdin);
    const call: ScriptedCall = {
      host,
      command,
      ...(isArgv ? { argv: [...(command as readonly string[])] } : { script: (command as { script: string }).script }),
      line: commandToShell(command),
      ...(stdin !== undefined ? { stdin } : {}),
      options,
    };
    this.calls.push(call);
    for (const rule of this.#rules) {
      if (rule.count >= rule.times || !matches(rule.match, call)) continue;
      const answer = typeof rule.reply === 'function' ? await rule.reply(call, rule.count + 1) : rule.reply;
      if (answer === undefined) continue;
      rule.count++;
      if (answer instanceof Error) throw answer;
      return answer;
    }
    this.unexpected.push(call);
    throw new AssertionError({ message: `ScriptedRunner: unexpected command on ${host}: ${call.line}` });
  }

  async upload(host: string, path: string, content: string | Buffer, mode: number): Promise<void> {
    const upload = { host, path, content: String(content), mode };
    this.uploads.push(upload);
    const fault = this.#uploadFault?.(upload);
    if (fault) throw fault;
  }

  async close(): Promise<void> {}

  stats(): Readonly<Record<string, { connections: number; commands: number }>> {
    const stats: Record<string, { connections: number; commands: number }> = {};
    for (const call of this.calls) (stats[call.host] ??= { connections: 1, commands: 0 }).commands++;
    return stats;
  }

  /** The shell lines run (on one host, when given), in order. */
  lines(host?: string): string[] {
    return this.calls.filter((call) => host === undefined || call.host === host).map((call) => call.line);
  }

  /** Fails the test if any command went unanswered, even one whose error the code under test swallowed. */
  assertNoUnexpected(): void {
    assert.deepEqual(this.unexpected.map((call) => `${call.host}: ${call.line}`), [], 'commands no rule answered');
  }
}
