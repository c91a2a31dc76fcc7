// mrsk accessory exec NAME CMD: a command inside the running accessory container (docker exec) on
// each of its hosts, or attached to this terminal on its first host (-i): `redis-cli info`, `psql`.
// Inside the running container, not in a new one: a database's tools need its data and sockets,
// which a fresh container of the image would not have (Kamal's --reuse, accepted and the default).
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import * as runtime from '../../runtime/index.ts';
import { runtimeOf } from '../../apply/remote.ts';
import { auditOrReport } from '../../apply/lock.ts';
import { tryRun } from '../../apply/remote.ts';
import { HostError, UsageError } from '../../errors.ts';
import { redact } from '../../secret.ts';
import { combinedExitCode, runPerHost, type HostOutcome } from '../../ops/hosts.ts';
import { formatSummary } from '../../views/hosts.ts';
import { describeExec, execArgv } from '../../ops/exec.ts';
import { probe } from '../shared/common.ts';
import { NO_TIMEOUT_MS, printSections, reachableHost } from '../shared/per-host.ts';
import { accessoryContainerName, ALL_ACCESSORIES, targetHosts, withAccessories } from '../shared/accessories.ts';

interface ExecOptions {
  interactive?: boolean;
  reuse?: boolean;
}

async function accessoryExec(ctx: CommandContext, name: string, words: readonly string[], options: ExecOptions): Promise<number> {
  if (name === ALL_ACCESSORIES) throw new UsageError('accessory exec runs in one accessory: name it, e.g. mrsk accessory exec redis "redis-cli info"');
  if (words.length === 0) throw new UsageError(`accessory exec needs a command, e.g. mrsk accessory exec ${name} "ls -l /data"`);
  return withAccessories(ctx, name, async (session, targets) => {
    const { config } = session;
    const target = targets[0]!;
    const container = accessoryContainerName(config, target.accessory);
    const hosts = options.interactive ? [targetHosts(targets)[0]!] : targetHosts(targets);
    const snapshot = await probe(session, hosts);
    const argvOn = (host: string, tty: boolean) => {
      const rt = runtimeOf(session.remote, host);
      const seen = reachableHost(snapshot, host);
      const found = seen.containers.find((c) => c.name === container);
      if (!found || found.state !== 'running') {
        throw new HostError(host, `${target.accessory.name} is not running here (${found ? `its container is ${found.state}` : 'no container'}): \`mrsk accessory ${found ? 'start' : 'boot'} ${target.accessory.name}\` first`);
      }
      return runtime.execInContainer(rt, container, execArgv(words), { interactive: tty, tty });
    };
    const described = redact(describeExec(words), config.secrets);
    const record = (on: readonly string[]) => auditOrReport(session.remote, on, config.service, config.destination, `accessory exec ${target.accessory.name} ${described}`, (text) => ctx.out.warn(text));

    if (options.interactive) {
      const host = hosts[0]!;
      const argv = argvOn(host, true);
      ctx.out.info(`Launching interactive command in ${container} on ${host}`);
      await record([host]);
      // the terminal is wired straight through: Ctrl-C reaches the remote process as a byte
      return (await session.runner.exec(host, argv, { pty: true })).code;
    }

    const outcomes = await runPerHost(
      hosts,
      async (host): Promise<HostOutcome> => {
        const argv = argvOn(host, false);
        let output = '';
        // stdout and stderr are kept in the order they arrived, as on a terminal
        const result = await tryRun(session.remote, host, argv, {
          onStdout: (chunk) => void (output += chunk),
          onStderr: (chunk) => void (output += chunk),
          timeoutMs: NO_TIMEOUT_MS,
          keepOutput: false,
        });
        const text = redact(output, config.secrets);
        return result.code === 0 ? { host, ok: true, code: 0, output: text } : { host, ok: false, code: result.code, output: text, problem: `exit ${result.code}` };
      },
      printSections(ctx, 'Accessory'),
    );
    await record(outcomes.filter((o) => o.code !== undefined).map((o) => o.host));
    const summary = formatSummary(outcomes);
    if (summary) ctx.out.info(summary.trimEnd());
    return combinedExitCode(outcomes);
  });
}

export function registerExec(accessory: Command, bind: Bind): void {
  accessory
    .command('exec')
    .description('run a command inside the running accessory container on each of its hosts (quote it: mrsk accessory exec redis "redis-cli info")')
    .argument('<name>', 'the accessory’s name in the config')
    .argument('<command...>', 'one word is run by sh -c; several words are exact argv')
    .option('-i, --interactive', 'attach this terminal (TTY, stdin, Ctrl-C) on the accessory’s first host')
    .option('--reuse', 'run inside the running container (the default here; accepted for Kamal’s command lines)')
    .action(bind<ExecOptions>((ctx, options, args) => accessoryExec(ctx, args[0]!, args.slice(1), options)));
}
