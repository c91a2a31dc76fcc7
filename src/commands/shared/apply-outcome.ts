// What a failed run left serving, host by host, from the plan and the status of each step. Pure.
// A run that lost a host (the connection dropped, dockerd went away) after a new container
// started there and before the old one stopped leaves that host serving both versions: the
// result says so instead of "hosts keep serving what they ran before".
import type { StepStatus } from '../../apply/executor.ts';
import { HostError, RemoteCommandError, TimeoutError } from '../../errors.ts';
import type { Plan } from '../../plan/types.ts';

/** A host whose cutover stopped half-way: what was started, what was not stopped. */
export interface HalfCutover {
  readonly host: string;
  readonly started: readonly string[];
  readonly notStopped: readonly string[];
}

/**
 * The hosts that failed because mrsk lost sight of them (a transport or docker command failure,
 * not a verified health or routing verdict) after a container of the plan was started there and
 * while a container the plan stops still runs.
 */
export function halfCutovers(plan: Plan, statuses: Readonly<Record<string, StepStatus>>, failures: readonly { readonly step: { readonly host: string }; readonly error: Error }[]): HalfCutover[] {
  const lostHosts = new Set(failures.filter((f) => f.error instanceof HostError || f.error instanceof TimeoutError || f.error instanceof RemoteCommandError).map((f) => f.step.host));
  const result: HalfCutover[] = [];
  for (const host of lostHosts) {
    const steps = plan.steps.filter((s) => s.host === host);
    const started = steps.flatMap((s) =>
      statuses[s.id] === 'done' && (s.action.kind === 'container-run' || s.action.kind === 'container-start')
        ? [s.action.kind === 'container-run' ? s.action.spec.name : s.action.name]
        : [],
    );
    const notStopped = steps.flatMap((s) => (s.action.kind === 'container-stop' && statuses[s.id] !== 'done' ? [s.action.name] : []));
    if (started.length > 0 && notStopped.length > 0) result.push({ host, started, notStopped });
  }
  return result;
}

/** One line per host, for the failed run's message. */
export function describeHalfCutover(half: HalfCutover): string {
  return (
    `${half.host} may now serve two versions: ${half.started.join(', ')} was started and ${half.notStopped.join(', ')} was not stopped ` +
    '(mrsk lost sight of the host before it could see the cutover through). `mrsk plan` shows it; running the command again finishes it.'
  );
}
