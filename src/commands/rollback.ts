// mrsk rollback VERSION|RELEASE: bring back what a release ran (its containers' image, env,
// labels, options, roles; secrets as they are now), from the hosts' release ledgers. The plan is
// shown first; a retained container that matches is simply started again (no pull) and cut over
// like a deploy.
import type { RegisterCommand } from '../cli/program.ts';
import { UsageError } from '../errors.ts';
import { reachable, requireHosts } from './shared/common.ts';
import { converge, type PlanFor } from './converge.ts';
import { restoreRelease, rollbackTarget } from './shared/releases.ts';
import { isOwnedBy } from '../probe/observed.ts';
import { ROLE_LABEL, VERSION_LABEL } from '../model/labels.ts';
import { isNeverHealthy, resolveVersion } from '../plan/never-healthy.ts';
import type { ReachableHost, Snapshot } from '../probe/types.ts';
import { shortVersion } from '../plan/short-version.ts';
import { lockOptions, parseLockRequest, type LockOptionValues } from './shared/options.ts';
import { withSession } from './shared/session.ts';

export const register: RegisterCommand = (program, bind) => {
  lockOptions(program.command('rollback'))
    .argument('<version>', 'a version still retained on the hosts (or a unique prefix of one), or a release id from `mrsk releases`')
    .description('switch back to a retained version with zero downtime, without pulling')
    .option('--restore-traefik', "also bring back the release's Traefik (stop-first: HTTP fails for a few seconds per host)")
    .action(bind<LockOptionValues & { restoreTraefik?: boolean }>(async (ctx, options, args) => {
      const lock = parseLockRequest(options);
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const target = await rollbackTarget(ctx, session, args[0]!);
        const { requested } = target;
        const { service, destination } = session.config;
        // Everything below reads the hosts once, under the lock (converge's planFor): the versions
        // they retain, whether each role of the release can come back, and the plan.
        const planFor = (snapshot: Snapshot): PlanFor => {
          const hosts = reachable(snapshot);
          // Rollback targets: versions with a container on the host that is this service's and did
          // not fail its health check (never-healthy.ts); those that failed are named, never offered.
          const targets = (host: ReachableHost) => host.containers.filter((c) => isOwnedBy(c, service, destination) && !isNeverHealthy(c));
          const matched = resolveVersion(requested, hosts.flatMap((host) => targets(host).map((c) => c.labels[VERSION_LABEL] ?? '')).filter(Boolean));
          if (matched.kind === 'ambiguous') {
            throw new UsageError(`version ${requested} is ambiguous: it starts ${matched.candidates.length} retained versions (${matched.candidates.join(', ')}); give more characters`);
          }
          const version = matched.kind === 'none' ? requested : matched.version;
          if (matched.kind === 'prefix') ctx.out.info(`Version ${requested} is ${version}`);
          // What the release ran on each host (its roles, env, labels, …), with today's secrets.
          const restored = restoreRelease(ctx, session, target, version, { restoreTraefik: options.restoreTraefik });
          const selectedRoles = new Set(restored.session.roles);
          // Every selected host must still have a container of that version for each role the
          // release ran there, or at least its image (a role dropped since lost its containers).
          const available = new Map<string, Set<string>>();
          const missing: string[] = [];
          const failed: string[] = [];
          for (const host of hosts) {
            const versions = new Set(targets(host).map((c) => c.labels[VERSION_LABEL]).filter((v): v is string => Boolean(v)));
            available.set(host.host, versions);
            const specs = (restored.desired.hosts[host.host]?.containers ?? []).filter((spec) => selectedRoles.has(spec.role));
            for (const spec of specs) {
              const ofRole = host.containers.filter((c) => isOwnedBy(c, service, destination) && c.labels[VERSION_LABEL] === version && c.labels[ROLE_LABEL] === spec.role);
              if (ofRole.some((c) => !isNeverHealthy(c))) continue;
              if (ofRole.length === 0 && host.images.some((image) => image.tags.includes(spec.image))) continue;
              missing.push(`${host.host} (${spec.role})`);
              if (ofRole.length > 0) failed.push(`${host.host} (${spec.role})`);
            }
          }
          if (missing.length > 0) {
            const everywhere = [...available.values()].reduce<Set<string> | undefined>(
              (acc, set) => (acc ? new Set([...acc].filter((v) => set.has(v))) : new Set(set)),
              undefined,
            );
            const list = everywhere && everywhere.size ? [...everywhere].sort().join(', ') : 'none';
            const why = failed.length > 0 ? ` (it never became healthy on ${failed.join(', ')}, so it is no rollback target)` : '';
            throw new UsageError(`version ${version} is not retained on ${missing.join(', ')}${why}. Versions retained on every selected host: ${list}`);
          }
          // the release's desired state; a host without an image it needs is blocked, never pulled
          return { desired: restored.desired, request: { mode: 'restore-release' }, hosts: hosts.map((host) => host.host), roles: restored.session.roles, version };
        };
        const result = await converge(ctx, session, {
          command: `rollback ${requested}`,
          version: requested,
          planFor,
          ask: false,
          lockWait: lock.waitSeconds,
          forceLock: lock.force,
        });
        ctx.out.info(`Rolled back ${session.config.service} to ${shortVersion(result.version)} on ${result.hosts.length} host(s) in ${(result.ms / 1000).toFixed(1)}s`);
        return result.plan.blockedHosts.length > 0 ? 1 : 0;
      }, { app: true });
    }));
};
