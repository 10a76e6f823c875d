#!/usr/bin/env bash
# Stop the one-node Slurm cluster of scripts/slurm-up.sh: cancel its jobs, stop slurmd,
# slurmctld and munged (by their pid files), wait for them to exit. Idempotent (nothing
# running: nothing to do). Leaves /etc/slurm/slurm.conf and the spool folders for the next
# slurm-up.sh. Needs root; otherwise says why and exits 1.
set -uo pipefail
export PATH="$PATH:/usr/sbin"
fail() { echo "slurm-down: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (the daemons run as root and munge)"
if [ -f /etc/slurm/slurm.conf ] && ! grep -qF '# written by layerwise scripts/slurm-up.sh' /etc/slurm/slurm.conf; then
  fail "/etc/slurm/slurm.conf was not written by scripts/slurm-up.sh; not stopping a real cluster"
fi

stop() { # pid file, name
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "slurm-down: stopped $2 ($pid)"
  fi
  rm -f "$f"
}
if [ -f /run/slurm/slurmctld.pid ] && kill -0 "$(cat /run/slurm/slurmctld.pid)" 2>/dev/null; then
  scancel --full --user=root >/dev/null 2>&1 || true
  scancel --full >/dev/null 2>&1 || true
fi
stop /run/slurm/slurmd.pid slurmd
stop /run/slurm/slurmctld.pid slurmctld
stop /run/munge/munged.pid munged
exit 0
