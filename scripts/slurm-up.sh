#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for the Slurm tests (issue 12; Debian's slurm-wlm
# and munge): this host is controller and compute node (its real hostname at 127.0.0.1, CPUs
# from nproc, RealMemory from free), one partition `debug`, select/cons_tres with CR_CPU_Memory
# so several 1-CPU jobs share the node, proctrack/linuxproc and task/none (no cgroups, no
# systemd). Starts munged, slurmctld and slurmd as daemons and waits (bounded) until `sinfo`
# shows the node idle. Idempotent: daemons already running are kept. Needs root (slurmd
# starts jobs as their users); otherwise says why and exits 1. Stop it with scripts/slurm-down.sh.
#   scripts/slurm-up.sh            # then: sinfo; sbatch --wrap 'hostname'
# Writes /etc/slurm/slurm.conf (Slurm's default path, so sbatch/squeue find it) unless one not
# written by this script is there; state in /var/spool/slurm*, logs in /var/log/slurm/.
set -euo pipefail

MARK='# written by layerwise scripts/slurm-up.sh'
CONF=/etc/slurm/slurm.conf
WAIT_S=${SLURM_UP_WAIT_S:-60}
fail() { echo "slurm-up: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (slurmd runs jobs as their users; munged and the spool folders are system-wide); run it with sudo"
for c in munged slurmctld slurmd sinfo sbatch; do
  command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] || fail "$c not found: apt-get install -y slurm-wlm munge"
done
export PATH="$PATH:/usr/sbin"

host=$(hostname -s)
cpus=$(nproc)
mem_total=$(free -m | awk '/^Mem:/ {print $2}')
mem=$((mem_total * 9 / 10)) # below what slurmd measures, or the node drains with "Low RealMemory"

if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
  fail "$CONF exists and was not written by this script; not touching a real cluster's configuration"
fi
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
new_conf=$(cat <<EOF
$MARK
ClusterName=layerwise
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=512
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
# Ended jobs stay in squeue -j for 10 minutes (no slurmdbd here, so sacct knows nothing).
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
)
changed=0
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$new_conf" ]; then
  printf '%s\n' "$new_conf" > "$CONF"
  changed=1
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# munge: the key Debian's package made (or a fresh one), munged as the munge user.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
if ! alive /run/munge/munged.pid; then
  runuser -u munge -- /usr/sbin/munged || fail "munged did not start (see /var/log/munge/munged.log)"
fi
for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
munge -n | unmunge >/dev/null 2>&1 || fail "munge does not answer (see /var/log/munge/munged.log)"

if [ "$changed" -eq 1 ]; then
  # A new configuration: restart what runs with the old one.
  for p in slurmd slurmctld; do alive /run/slurm/$p.pid && kill "$(cat /run/slurm/$p.pid)" && sleep 1; done
fi
alive /run/slurm/slurmctld.pid || slurmctld || fail "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
alive /run/slurm/slurmd.pid || slurmd || fail "slurmd did not start (see /var/log/slurm/slurmd.log)"

# Bounded wait for the node to be idle (a node down since an earlier run is resumed).
end=$((SECONDS + WAIT_S))
state=""
while [ $SECONDS -lt $end ]; do
  state=$(sinfo -h -n "$host" -o '%t' 2>/dev/null | head -n 1 || true)
  case "$state" in
    idle|mix|alloc) echo "slurm-up: node $host is $state ($cpus CPUs, ${mem} MB; partition debug)"; exit 0 ;;
    down*|drain*|drng*) scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 1
done
fail "node $host not idle after ${WAIT_S} s (sinfo says '${state:-nothing}'); see /var/log/slurm/slurmctld.log and slurmd.log"
