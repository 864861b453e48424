#!/usr/bin/env bash
# Starts or stops a throw-away one-node Slurm cluster on this host, for the tests of
# scripts/slurm/tunelab-workers.sbatch.
#
#   slurm_cluster.sh start DIR   starts munged (its own key and socket in DIR), slurmctld and slurmd (a
#                                one-node slurm.conf in DIR on two free TCP ports; state, spool, logs and
#                                pid files in DIR), waits until sinfo shows the node idle and writes
#                                DIR/env for callers to source (SLURM_CONF, and the munge socket)
#   slurm_cluster.sh stop DIR    cancels the cluster's jobs, stops its daemons and removes DIR
#
# Nothing of the host's own Slurm or munge is used: no /etc/slurm, no /etc/munge key, no system socket, no
# default port. A host whose packages started the system's munged (systemd does on install) keeps it; the
# Debian units of slurmctld and slurmd start nothing without /etc/slurm/slurm.conf.
#
# The daemons run as the user who starts the cluster (SlurmUser and SlurmdUser: root in a root shell), who is
# then the one user whose jobs it can run, without cgroups: proctrack/linuxproc, task/none. Finished jobs are written to DIR/jobcomp.log (jobcomp/filetxt),
# one line per array task with its JobState and ExitCode: the test cluster has no accounting database for
# sacct. DIR's path should be short: Unix sockets live in it.
#
# Exit status of start: 0 when the node is idle; 77 (skip) when Slurm cannot start here at all (its Debian
# packages are missing and cannot be installed), with the reason on stderr; 1 when a daemon failed, with its
# log.
set -euo pipefail

action=${1:?start or stop}
dir=${2:?folder}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node=tunelab-node

say() {
    echo "slurm_cluster: $*" >&2
}

skip() {
    say "cannot start Slurm here: $*"
    exit 77
}

# Whether process PID runs (a zombie, dead but not yet reaped by its parent, does not).
running() {
    grep -q '^State:[[:space:]]*[^Z[:space:]]' "/proc/$1/status" 2>/dev/null
}

# Sends TERM to the daemon whose pid FILE names, if it still runs NAME, and waits for it (KILL after 15 s).
stop_daemon() {
    local file=$1 name=$2 pid i
    [[ -r $file ]] || return 0
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name"* ]] && running "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 150; ++i)); do
        running "$pid" || return 0
        sleep 0.1
    done
    say "$name (pid $pid) ignored TERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

stop_cluster() {
    if [[ -r $dir/slurm.conf ]] && command -v squeue >/dev/null 2>&1 && [[ -r $dir/slurmctld.pid ]]; then
        # Jobs first, so that no slurmstepd outlives the cluster.
        local jobs i
        jobs=$(SLURM_CONF=$dir/slurm.conf timeout 10 squeue -h -o %i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086 # one argument per job id
            SLURM_CONF=$dir/slurm.conf timeout 10 scancel $jobs 2>/dev/null || true
            for ((i = 0; i < 100; ++i)); do
                [[ -z $(SLURM_CONF=$dir/slurm.conf timeout 10 squeue -h -o %i 2>/dev/null || true) ]] && break
                sleep 0.1
            done
        fi
    fi
    stop_daemon "$dir/slurmd.pid" slurmd
    stop_daemon "$dir/slurmctld.pid" slurmctld
    stop_daemon "$dir/munge/munged.pid" munged
    rm -rf "$dir"
}

# Prints the first of two free neighbouring TCP ports, starting from a port chosen by DIR's name so that two
# clusters started at once (two build folders) look in different places.
free_ports() {
    local used=" " hex port tries
    while read -r hex; do
        used+="$((16#$hex)) "
    done < <(awk 'FNR > 1 { n = split($2, a, ":"); print a[n] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)
    port=$((20000 + $(cksum <<<"$dir" | cut -d' ' -f1) % 20000))
    for ((tries = 0; tries < 1000; ++tries)); do
        if [[ $used != *" $port "* && $used != *" $((port + 1)) "* ]]; then
            echo "$port"
            return 0
        fi
        port=$((port + 2 > 60000 ? 20000 : port + 2))
    done
    return 1
}

# Prints the logs of a start that failed, stops what started and exits 1.
fail() {
    say "$*"
    local log
    for log in "$dir/munge/munged.log" "$dir/log/slurmctld.log" "$dir/log/slurmd.log"; do
        if [[ -s $log ]]; then
            echo "--- $log (last lines)" >&2
            tail -n 30 "$log" >&2
        fi
    done
    stop_cluster
    exit 1
}

start_cluster() {
    local commands=(munged munge unmunge slurmctld slurmd sbatch sinfo squeue scontrol scancel) missing=() command
    for command in "${commands[@]}"; do
        command -v "$command" >/dev/null 2>&1 || missing+=("$command")
    done
    if ((${#missing[@]} > 0)); then
        say "missing ${missing[*]}: installing the Debian packages (scripts/common.sh, TUNELAB_CLUSTER_PACKAGES)"
        # shellcheck disable=SC2016 # expanded by the inner shell
        timeout 180 bash -c 'source "$1/scripts/common.sh" && tunelab_install_packages "${TUNELAB_CLUSTER_PACKAGES[@]}"' \
            _ "$here/../.." >&2 ||
            skip "${missing[*]} missing, and their packages could not be installed"
        for command in "${commands[@]}"; do
            command -v "$command" >/dev/null 2>&1 || skip "$command is still missing after installing the packages"
        done
    fi

    if [[ -e $dir ]]; then
        stop_cluster
    fi
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
    # munged wants its socket's folder (and every folder above it) open to all, and nothing writable by others.
    chmod 755 "$dir" "$dir/munge"

    # munge: a key of this cluster's own.
    local socket=$dir/munge/munge.socket i
    (
        umask 077
        head -c 1024 /dev/urandom >"$dir/munge/munge.key"
    )
    munged --socket="$socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" --num-threads=2 ||
        fail "munged did not start"
    for ((i = 0; ; ++i)); do
        munge -n -S "$socket" 2>/dev/null | unmunge -S "$socket" >/dev/null 2>&1 && break
        ((i < 100)) || fail "munged does not answer on $socket"
        sleep 0.1
    done

    # The node as slurmd sees this host, under the name of the test node. Its memory a little under what
    # slurmd measures, so that a measure a few megabytes lower at registration does not drain it.
    local hardware memory port user
    user=$(id -un)
    hardware=$(slurmd -C | head -n 1) || fail "slurmd -C failed"
    memory=$(grep -o 'RealMemory=[0-9]*' <<<"$hardware" | cut -d= -f2)
    [[ -n $memory ]] || fail "slurmd -C reported no memory: $hardware"
    hardware=$(sed -e 's/^NodeName=[^ ]* //' -e 's/RealMemory=[0-9]*//' -e 's/UpTime=[^ ]*//' <<<"$hardware")
    port=$(free_ports) || fail "no two free TCP ports"

    cat >"$dir/slurm.conf" <<EOF
# A one-node test cluster (tests/slurm/slurm_cluster.sh); everything it writes is in $dir.
ClusterName=tunelabtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 $hardware RealMemory=$((memory * 9 / 10)) State=UNKNOWN
PartitionName=tunelab Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

    slurmctld -f "$dir/slurm.conf" || fail "slurmctld did not start"
    slurmd -f "$dir/slurm.conf" -N "$node" || fail "slurmd did not start"
    local state=""
    for ((i = 0; ; ++i)); do
        state=$(SLURM_CONF=$dir/slurm.conf timeout 10 sinfo -h -n "$node" -o %t 2>/dev/null || true)
        [[ $state == idle ]] && break
        ((i < 600)) || fail "the node is not idle after 60 s (sinfo: ${state:-no answer})"
        sleep 0.1
    done

    cat >"$dir/env" <<EOF
export SLURM_CONF=$dir/slurm.conf
# For munge -S and unmunge -S; the Slurm commands read it from SLURM_CONF (AuthInfo).
export TUNELAB_SLURM_MUNGE_SOCKET=$socket
EOF
    chmod a+r "$dir/env" "$dir/slurm.conf"
    say "running in $dir (slurmctld port $port, slurmd port $((port + 1)), node $node: $hardware)"
}

case "$action" in
start) start_cluster ;;
stop) stop_cluster ;;
*)
    echo "usage: slurm_cluster.sh start DIR | stop DIR" >&2
    exit 2
    ;;
esac
