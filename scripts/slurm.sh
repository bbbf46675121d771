#!/usr/bin/env bash
# A real single-node Slurm cluster for shotline's farm tests and benchmarks: munged, slurmctld
# and slurmd from Debian's `slurm-wlm` and `munge`, configured in a private state folder so
# nothing of the host's /etc/slurm is touched.
#
# Usage: scripts/slurm.sh start|stop|status|env
#   start   install what is missing (apt), write slurm.conf, start the daemons and wait until
#           `sinfo` shows the node idle; prints `export SLURM_CONF=…` for the caller
#   stop    stop the daemons started by `start` (by their pid files) and remove the state
#   status  sinfo / squeue of the cluster, exit 1 when it is not up
#   env     prints `export SLURM_CONF=…`
#
# The state folder is $SHOTLINE_SLURM_DIR (default /tmp/shotline-slurm). Sandboxes without
# systemd or cgroups are fine: proctrack/linuxproc, task/none, no accounting daemon.
set -euo pipefail

dir=${SHOTLINE_SLURM_DIR:-/tmp/shotline-slurm}
conf=$dir/etc/slurm.conf
export SLURM_CONF=$conf

log() { echo "slurm.sh: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root (or sudo) for: $*"; exit 2
  fi
}

install_packages() {
  local need=()
  command -v slurmctld >/dev/null 2>&1 || [[ -x /usr/sbin/slurmctld ]] || need+=(slurm-wlm)
  command -v munged >/dev/null 2>&1 || [[ -x /usr/sbin/munged ]] || need+=(munge)
  if [[ ${#need[@]} -gt 0 ]]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

write_config() {
  mkdir -p "$dir"/{etc,state,spool,log,run,munge}
  chmod 700 "$dir/munge"
  local host cpus mem_mb
  host=$(hostname -s)
  cpus=$(nproc --all)
  # Slurm refuses a node claiming more memory than it has; leave a little for the daemons.
  mem_mb=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  cat >"$conf" <<EOF
# Written by scripts/slurm.sh: a single-node cluster for shotline's tests.
ClusterName=shotline
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=${SHOTLINE_SLURMCTLD_PORT:-16817}
SlurmdPort=${SHOTLINE_SLURMD_PORT:-16818}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SchedulerParameters=sched_interval=1,bf_interval=1
MessageTimeout=10
KillWait=5
MinJobAge=600
MaxArraySize=100001
MaxJobCount=200000
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
PropagateResourceLimits=NONE
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start_munge() {
  if [[ -f $dir/run/munged.pid ]] && kill -0 "$(cat "$dir/run/munged.pid")" 2>/dev/null; then return; fi
  # munged wants the key readable only by its user; the packaged key is used when present.
  local key=/etc/munge/munge.key
  if [[ ! -s $key ]]; then
    key=$dir/munge/munge.key
    [[ -s $key ]] || dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    chmod 400 "$key"
  fi
  local socket_dir=/run/munge
  as_root mkdir -p "$socket_dir"
  as_root munged --force --key-file="$key" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
}

wait_idle() {
  local i
  for i in $(seq 1 120); do
    if sinfo -h -o '%t' 2>/dev/null | grep -qx 'idle'; then return 0; fi
    sleep 0.5
  done
  log "the node did not come up idle within 60 s"
  sinfo -N -l >&2 || true
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  return 1
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  install_packages
  if alive "$dir/run/slurmctld.pid" && alive "$dir/run/slurmd.pid"; then
    wait_idle
    echo "export SLURM_CONF=$conf"
    return
  fi
  write_config
  start_munge
  # -i: ignore state left by an earlier run of a different configuration.
  as_root slurmctld -i -f "$conf"
  as_root slurmd -f "$conf"
  wait_idle
  log "up: $(sinfo -h -o '%N %c CPUs %m MB %t')"
  echo "export SLURM_CONF=$conf"
}

stop_pid() {
  local f=$1 pid i
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    as_root kill "$pid" || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && as_root kill -9 "$pid" || true
  fi
  rm -f "$f"
}

stop() {
  stop_pid "$dir/run/slurmd.pid"
  stop_pid "$dir/run/slurmctld.pid"
  stop_pid "$dir/run/munged.pid"
  rm -rf "${dir:?}/state" "${dir:?}/spool"
  log "stopped"
}

status() {
  if alive "$dir/run/slurmctld.pid" && alive "$dir/run/slurmd.pid"; then
    sinfo
    squeue
  else
    log "not running (state folder $dir)"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
