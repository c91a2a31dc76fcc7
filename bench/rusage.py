# Runs a command and prints its wall time, CPU time (user + system) and peak RSS, from wait4's
# rusage (microseconds; /usr/bin/time rounds CPU to 10 ms). Used by bench/startup.ts.
import os, resource, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
print(f"RUSAGE {wall * 1000:.3f} {(usage.ru_utime + usage.ru_stime) * 1000:.3f} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}", file=sys.stderr)
