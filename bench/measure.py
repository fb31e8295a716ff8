#!/usr/bin/env python3
"""Runs one command for bench/postgres.sh and measures it: wall clock and
the peak RSS of every process of the dray binary among its descendants.

    measure.py [--dray PATH] [--stdin FILE] [--stdout FILE] OUT -- CMD...

Every 50 ms it reads /proc/*/exe and, for the command's descendants
running the dray binary, VmHWM from /proc/PID/status (the kernel's
high-water mark of the resident set: only a process that lives less than
one interval, or growth in its last interval, can be missed). Processes
are grouped by role, dray's first argument: put, run, target, __worker
(the plugin workers); a process of the same role as its parent (the
loader child 'dray target' forks) is "ROLE-child". When /usr/bin/time is
there the command runs under it; its %M is exact however short the
command lives, but covers the command's whole tree (wait4 folds in the
children it reaped), so it counts for the command's role only when no
other dray process was seen (put).

OUT gets shell-readable lines:
  WALL=12.345       seconds from start to exit
  RC=0              the command's exit status (128+N for a signal)
  RSS_<role>=KB     the highest VmHWM seen per role (role with '_' for
                    '-' and without leading '_': RSS_worker, RSS_target_child)
  PROCS_<role>=N    how many processes of that role were seen
The exit status of measure.py is the command's.
"""
import os
import subprocess
import sys
import tempfile
import time

INTERVAL = 0.05


def read_status_hwm(pid):
    try:
        with open("/proc/%d/status" % pid, "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def read_argv(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def read_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


class Sampler:
    def __init__(self, dray):
        self.dray = os.path.realpath(dray) if dray else None
        self.root = 0     # the command's pid: only its descendants count
        self.roles = {}   # pid -> role, in the latest sample
        self.peak = {}    # role -> KB
        self.seen = {}    # role -> set of pids

    def is_dray(self, pid):
        try:
            return os.readlink("/proc/%d/exe" % pid) == self.dray
        except OSError:
            return False

    def descends(self, pid):
        for _ in range(64):
            if pid == self.root:
                return True
            if pid <= 1:
                return False
            pid = read_ppid(pid)
        return False

    def role_of(self, pid):
        argv = read_argv(pid)
        if len(argv) < 2 or not argv[1]:
            return None  # a zombie: no cmdline any more
        role = argv[1].decode(errors="replace")
        parent = self.roles.get(read_ppid(pid))
        if parent is not None and parent.split("-")[0] == role:
            role += "-child"
        return role

    def sample(self):
        if self.dray is None:
            return
        # No caching by pid: a forked child is relabelled once it execs.
        pids = sorted(int(n) for n in os.listdir("/proc") if n.isdigit())
        self.roles = {}
        for pid in pids:
            if not self.is_dray(pid) or not self.descends(pid):
                continue
            role = self.role_of(pid)
            if role is None:
                continue
            self.roles[pid] = role
            hwm = read_status_hwm(pid)
            if hwm is None:
                continue
            self.seen.setdefault(role, set()).add(pid)
            if hwm > self.peak.get(role, 0):
                self.peak[role] = hwm


def parse(argv):
    opts = {"dray": None, "stdin": None, "stdout": None}
    i = 0
    while i < len(argv) and argv[i].startswith("--") and argv[i] != "--":
        key = argv[i][2:]
        if key not in opts or i + 1 >= len(argv):
            raise SystemExit("measure.py: bad option %s" % argv[i])
        opts[key] = argv[i + 1]
        i += 2
    if i + 2 >= len(argv) or argv[i + 1] != "--":
        raise SystemExit(__doc__)
    return opts, argv[i], argv[i + 2:]


def run(cmd, sampler, stdin, stdout):
    """Runs cmd, sampling until it exits; returns (wall, rc, time's %M in
    KB or None)."""
    timer = "/usr/bin/time"
    peak_file = None
    if os.access(timer, os.X_OK):
        # time(1) is small when it forks the command, so its %M is the
        # peak of the command's tree; wait4 on our own child would count
        # the Python it was forked from.
        fd, peak_file = tempfile.mkstemp(prefix="measure-", suffix=".rss")
        os.close(fd)
        cmd = [timer, "-f", "%M", "-o", peak_file, "--"] + cmd
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout)
    sampler.root = proc.pid
    while True:
        sampler.sample()
        try:
            if proc.poll() is not None:
                break
            time.sleep(INTERVAL)
        except KeyboardInterrupt:  # Ctrl-C reached the command too
            proc.wait()
            break
    wall = time.monotonic() - start
    rc = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    peak = None
    if peak_file is not None:
        with open(peak_file, encoding="utf-8") as f:
            lines = f.read().split()
        os.unlink(peak_file)
        # time writes "Command exited with non-zero status N" first then.
        if lines and lines[-1].isdigit():
            peak = int(lines[-1])
    return wall, rc, peak


def main():
    opts, out, cmd = parse(sys.argv[1:])
    sampler = Sampler(opts["dray"])
    stdin = open(opts["stdin"], "rb") if opts["stdin"] else None
    stdout = open(opts["stdout"], "wb") if opts["stdout"] else None
    wall, rc, peak = run(cmd, sampler, stdin, stdout)
    role = cmd[1] if len(cmd) > 1 else None
    if peak is not None and sampler.dray is not None and \
            os.path.realpath(cmd[0]) == sampler.dray and \
            set(sampler.peak) <= {role}:
        sampler.peak[role] = max(sampler.peak.get(role, 0), peak)
        sampler.seen.setdefault(role, {0})
    lines = ["WALL=%.3f" % wall, "RC=%d" % rc]
    for role in sorted(sampler.peak):
        tag = role.lstrip("_").replace("-", "_")
        lines.append("RSS_%s=%d" % (tag, sampler.peak[role]))
        lines.append("PROCS_%s=%d" % (tag, len(sampler.seen[role])))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
