#!/usr/bin/env bash
# local_cluster.sh - a real single-node Slurm cluster on loopback, for the dtl_submit tests
# (tests/cli/test_submit_slurm.py); from the project's recipe in shared/slurm/local-cluster.sh.
#
#   eval "$(tests/slurm/local_cluster.sh start)"   # install if missing, start, wait idle,
#                                                  # print `export SLURM_CONF=...` lines
#   sbatch --array=0-3 ...                         # jobs run on this machine
#   tests/slurm/local_cluster.sh stop              # cancel jobs, stop daemons by PID
#   tests/slurm/local_cluster.sh status | env      # state / re-print the export lines
#
# Debian 12 (Slurm 22.05), run as root, no systemd needed.  Everything lives
# in $SLURM_LOCAL_DIR (default /tmp/slurm-local).  Quiet on success; on
# failure it says why on stderr and exits non-zero.
#
# Knobs (environment):
#   SLURM_LOCAL_DIR      config, state, logs, pid files   [/tmp/dlib_torch-slurm]
#   SLURM_LOCAL_PORT     slurmctld port; slurmd uses +1    [6817]
#   SLURM_LOCAL_AUTH     auto | none | munge               [auto: none if the
#                        auth_none plugin exists, else munge]
#   SLURM_LOCAL_KILLWAIT seconds between SIGTERM and SIGKILL at time limit or
#                        scancel                           [5]
#   SLURM_LOCAL_TIMEOUT  seconds to wait for the node to be idle  [60]
# The code sticks to POSIX sh constructs; bash is used to run it.

set -eu
PATH=$PATH:/usr/sbin:/sbin
export PATH

DIR=${SLURM_LOCAL_DIR:-/tmp/dlib_torch-slurm}
CONF=$DIR/slurm.conf
NODE=localnode
PART=debug
PORT=${SLURM_LOCAL_PORT:-6817}
AUTH=${SLURM_LOCAL_AUTH:-auto}
KILLWAIT=${SLURM_LOCAL_KILLWAIT:-5}
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
PKGS="slurmctld slurmd slurm-client munge"

die() {
    echo "local_cluster: $*" >&2
    exit 1
}

# alive PIDFILE COMM: the recorded PID runs and is the expected program.
alive() {
    [ -s "$1" ] || return 1
    _pid=$(cat "$1")
    [ "$(cat "/proc/$_pid/comm" 2>/dev/null)" = "$2" ]
}

print_env() {
    echo "export SLURM_CONF=$CONF"
    echo "export SLURM_LOCAL_DIR=$DIR"
}

show_logs() {
    for _f in "$DIR"/log/*.log; do
        [ -f "$_f" ] || continue
        echo "--- $_f" >&2
        tail -n 15 "$_f" >&2
    done
}

install_pkgs() {
    if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 &&
        command -v sbatch >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "Slurm is not installed and this is not root: apt-get install $PKGS"
    # Keep the packages' init scripts from starting system daemons.
    _policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        _policy=1
    fi
    _log=$DIR/log/apt.log
    _rc=0
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PKGS >"$_log" 2>&1 ||
        { apt-get update -q >>"$_log" 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PKGS >>"$_log" 2>&1; } ||
        _rc=$?
    [ -z "$_policy" ] || rm -f /usr/sbin/policy-rc.d
    if [ "$_rc" != 0 ]; then
        tail -n 20 "$_log" >&2
        die "apt-get install $PKGS failed (log: $_log)"
    fi
}

pick_auth() {
    case $AUTH in
    none | munge) ;;
    auto)
        AUTH=munge
        for _p in /usr/lib/*/slurm-wlm/auth_none.so /usr/lib*/slurm/auth_none.so; do
            [ -f "$_p" ] && AUTH=none && break
        done
        ;;
    *) die "SLURM_LOCAL_AUTH must be auto, none or munge, not '$AUTH'" ;;
    esac
}

write_conf() {
    # The node line is this machine's real hardware as slurmd sees it.
    _hw=$(env -u SLURM_CONF slurmd -C 2>/dev/null | head -n 1 | sed 's/^NodeName=[^ ]* //')
    case $_hw in
    *CPUs=*RealMemory=*) ;;
    *) die "slurmd -C did not report the hardware: '$_hw'" ;;
    esac
    if [ "$AUTH" = none ]; then
        _auth="AuthType=auth/none
CredType=cred/none"
    else
        _auth="AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge"
    fi
    cat >"$CONF.tmp" <<EOF
# Written by local_cluster.sh: single node on loopback, for tests.
ClusterName=local
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
$_auth
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
MinJobAge=3600
KillWait=$KILLWAIT
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 $_hw State=UNKNOWN
PartitionName=$PART Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
}

start_munge() {
    mkdir -p "$DIR/munge"
    chmod 755 "$DIR/munge" # munged wants the socket's folder searchable by all
    [ -s "$DIR/munge/munge.key" ] || mungekey --create --keyfile="$DIR/munge/munge.key" ||
        die "mungekey failed"
    chmod 600 "$DIR/munge/munge.key"
    munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
        --pid-file="$DIR/run/munged.pid" --seed-file="$DIR/munge/munged.seed" \
        --log-file="$DIR/log/munged.log" </dev/null >/dev/null 2>&1 ||
        { show_logs; die "munged did not start"; }
}

# port_busy PORT: something on this machine listens on TCP PORT.
port_busy() {
    _hex=$(printf ':%04X' "$1")
    awk -v p="$_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

node_state() {
    sinfo -h -n "$NODE" -o %t 2>/dev/null || true
}

running() {
    alive "$DIR/run/slurmctld.pid" slurmctld && alive "$DIR/run/slurmd.pid" slurmd &&
        { grep -q '^AuthType=auth/none' "$CONF" 2>/dev/null || alive "$DIR/run/munged.pid" munged; }
}

stop_pid() { # PIDFILE COMM
    alive "$1" "$2" || { rm -f "$1"; return 0; }
    _pid=$(cat "$1")
    kill -TERM "$_pid" 2>/dev/null || true
    _i=0
    while kill -0 "$_pid" 2>/dev/null && [ "$_i" -lt 150 ]; do
        sleep 0.2
        _i=$((_i + 1))
    done
    if kill -0 "$_pid" 2>/dev/null; then
        echo "local_cluster: $2 ($_pid) ignored SIGTERM, sending SIGKILL" >&2
        kill -KILL "$_pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$1"
}

cmd_stop() {
    export SLURM_CONF="$CONF"
    if alive "$DIR/run/slurmctld.pid" slurmctld; then
        # Jobs first: slurmstepd and the job's processes outlive slurmd.
        if [ -n "$(squeue -h -o %A 2>/dev/null)" ]; then
            scancel --partition="$PART" 2>/dev/null || true
            _i=0
            while [ -n "$(squeue -h -o %A 2>/dev/null)" ] && [ "$_i" -lt $((KILLWAIT * 5 + 50)) ]; do
                sleep 0.2
                _i=$((_i + 1))
            done
        fi
    fi
    stop_pid "$DIR/run/slurmd.pid" slurmd
    stop_pid "$DIR/run/slurmctld.pid" slurmctld
    stop_pid "$DIR/run/munged.pid" munged
}

cmd_start() {
    case $DIR in
    /*) ;;
    *) die "SLURM_LOCAL_DIR must be an absolute path" ;;
    esac
    case $DIR in *[!A-Za-z0-9_./+-]*) die "SLURM_LOCAL_DIR may hold only letters, digits and _./+-" ;; esac
    mkdir -p "$DIR/log" "$DIR/run" "$DIR/state" "$DIR/spool"
    install_pkgs
    pick_auth
    export SLURM_CONF="$CONF"
    if [ -f "$CONF" ] && running; then
        case $(node_state) in
        idle* | mix* | alloc* | comp*) # already up: nothing to do
            print_env
            return 0
            ;;
        esac
    fi
    cmd_stop # whatever half of an earlier start is left
    for _p in "$PORT" $((PORT + 1)); do
        ! port_busy "$_p" || die "port $_p is in use (another Slurm?): set SLURM_LOCAL_PORT"
    done
    write_conf
    [ "$AUTH" = none ] || start_munge
    # -c: start from a clean state (no jobs from an earlier run).
    slurmctld -c </dev/null >>"$DIR/log/slurmctld.out" 2>&1 || { show_logs; die "slurmctld did not start"; }
    slurmd -c -N "$NODE" </dev/null >>"$DIR/log/slurmd.out" 2>&1 || { show_logs; die "slurmd did not start"; }
    _i=0
    while ! running || [ "$(node_state)" != idle ]; do
        if [ "$_i" -ge $((TIMEOUT * 5)) ]; then
            show_logs
            sinfo -N -l >&2 2>&1 || true
            die "node not idle after ${TIMEOUT}s"
        fi
        if [ "$_i" -ge 25 ] && ! running; then
            show_logs
            die "a daemon exited during start"
        fi
        sleep 0.2
        _i=$((_i + 1))
    done
    print_env
}

cmd_status() {
    export SLURM_CONF="$CONF"
    if [ -f "$CONF" ] && running; then
        echo "running: slurmctld $(cat "$DIR/run/slurmctld.pid"), slurmd $(cat "$DIR/run/slurmd.pid")," \
            "node $(node_state), SLURM_CONF=$CONF"
    else
        echo "not running ($DIR)"
        return 1
    fi
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) print_env ;;
*)
    echo "usage: $0 start|stop|status|env   (SLURM_LOCAL_DIR=${DIR})" >&2
    exit 2
    ;;
esac
