// How Docker runs the health check of a proxied container. Docker only runs a check every
// `interval`, and nothing can ask it to run one now: a cut cord waited up to one interval for
// the next run (the drain), and a new container up to one interval for its first (healthy).
// So Docker is told to run the check again shortly after each run ends (DOCKER_HEALTH_GAP), and
// the check paces itself: once healthy, it watches the cord for one interval before it answers,
// failing as soon as the cord is cut. Podman's checks are run one at a time by mrsk's keeper and
// before each look of a wait, so they keep the plain check and Docker's schedule.
import type { HealthcheckSpec } from '../desired/types.ts';
import { CORD_FILE, CORD_MOUNT } from '../model/names.ts';
import { shq } from '../shell/quote.ts';

/** Seconds between the end of one run of a watching check and the start of the next (Docker's interval). */
export const DOCKER_HEALTH_GAP_SECONDS = 0.1;
/** How often a watching check looks at the cord. */
export const CORD_WATCH_STEP_SECONDS = 0.1;
/** Seconds Docker's timeout leaves on top of the tries and the watch (a loaded host's late sleeps). */
const TIMEOUT_MARGIN_SECONDS = 2;
/**
 * Where the check notes, inside the container, what Docker already knows since the container
 * started: `-ok` a run passed, `-cut` a run found the cord cut. /dev/shm is the container's own
 * tmpfs, made empty at every start (a retained container started again by a rollback is new to
 * its check again) and writable by any user, also with a read-only root. A container where it
 * cannot be written gets the paced check always (no faster start, no faster drain than Docker's
 * schedule gave, and never a busier check).
 */
export const HEALTH_MARK = '/dev/shm/.mrsk-health';

/**
 * The check Docker runs for a proxied container, around `health.cmd` (the cord test and the app's
 * tries, desired.ts healthcheckFor):
 * - the cord is cut: the first run that sees it fails at once, later ones after one interval
 *   (Docker runs them every DOCKER_HEALTH_GAP, so they pace themselves);
 * - else the tries run, and a failure fails the run;
 * - they pass: the first time at once (a new container is healthy as soon as its app answers);
 *   after that the run watches the cord for one interval (every CORD_WATCH_STEP) and fails as soon
 *   as it is cut, else passes. So the app is still checked about once an interval, and a cut cord
 *   fails within CORD_WATCH_STEP most of the time.
 * An image whose sleep takes whole seconds only is watched in whole seconds. A mark is written
 * with `true >`, not `: >`: a failed redirection of a special built-in like `:` ends the shell.
 */
export function watchingHealthcheck(health: HealthcheckSpec, mark: string = HEALTH_MARK): HealthcheckSpec {
  const cord = shq(`${CORD_MOUNT}/${CORD_FILE}`);
  const ok = shq(`${mark}-ok`);
  const cut = shq(`${mark}-cut`);
  const interval = health.interval;
  // watch steps per interval, one short for Docker's gap (at least one)
  const steps = Math.max(1, Math.round((interval - DOCKER_HEALTH_GAP_SECONDS) / CORD_WATCH_STEP_SECONDS));
  const wholeSecond = Math.round(1 / CORD_WATCH_STEP_SECONDS);
  const cmd = [
    `if [ ! -f ${cord} ]; then if [ -e ${cut} ] || ! true 2>/dev/null > ${cut}; then sleep ${interval}; fi; exit 1; fi`,
    `if [ -e ${cut} ]; then rm -f ${cut}; fi`,
    `(${health.cmd}) || exit 1`,
    `if [ -e ${ok} ] || ! true 2>/dev/null > ${ok}; then i=0; while [ $i -lt ${steps} ]; do if sleep ${CORD_WATCH_STEP_SECONDS} 2>/dev/null; then i=$((i + 1)); else sleep 1; i=$((i + ${wholeSecond})); fi; [ -f ${cord} ] || exit 1; done; fi`,
    'exit 0',
  ].join('; ');
  return {
    ...health,
    cmd,
    interval: DOCKER_HEALTH_GAP_SECONDS,
    // the tries, one interval of watching (or of pacing a cut cord), and a margin
    timeout: health.timeout + interval + TIMEOUT_MARGIN_SECONDS,
  };
}
