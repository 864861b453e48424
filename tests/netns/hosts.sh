#!/usr/bin/env bash
# Simulated hosts for the tests of several machines: network namespaces, each with its own host
# name, joined by veth pairs to a bridge in a namespace of their own, on a private subnet. Nothing
# touches this machine's own network: the subnet exists only inside the namespaces.
#
#   hosts.sh start NAME N         hosts NAME-1 .. NAME-N at 10.231.0.1 .. 10.231.0.N (a /24)
#   hosts.sh run NAME I CMD...    runs CMD on host I: in its namespace, with host name NAME-I
#   hosts.sh cut NAME I           takes host I off the network (its link goes down)
#   hosts.sh mend NAME I          puts it back
#   hosts.sh stop NAME            removes the hosts (and kills what still runs in them)
#
# Needs root and `ip` with network namespaces; `start` says why not and exits 1 where they are missing.
set -euo pipefail

action=${1:?start, run, cut, mend or stop}
name=${2:?name}
subnet=10.231.0

case "$action" in
start)
    count=${3:?number of hosts}
    if [[ $(id -u) -ne 0 ]]; then
        echo "hosts: simulated hosts need root (network namespaces)" >&2
        exit 1
    fi
    "$0" stop "$name" 2>/dev/null || true
    if ! ip netns add "$name-net" 2>/dev/null; then
        echo "hosts: cannot make network namespaces here (ip netns add failed)" >&2
        exit 1
    fi
    trap '"$0" stop "$name"' ERR
    ip -n "$name-net" link add br0 type bridge
    ip -n "$name-net" link set br0 up
    for ((i = 1; i <= count; i++)); do
        ip netns add "$name-$i"
        ip link add eth0 netns "$name-$i" type veth peer name "port$i" netns "$name-net"
        ip -n "$name-net" link set "port$i" master br0 up
        ip -n "$name-$i" addr add "$subnet.$i/24" dev eth0
        ip -n "$name-$i" link set eth0 up
        ip -n "$name-$i" link set lo up
    done
    ;;
run)
    host=${3:?host number}
    shift 3
    exec ip netns exec "$name-$host" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$name-$host" "$@"
    ;;
cut)
    ip -n "$name-${3:?host number}" link set eth0 down
    ;;
mend)
    ip -n "$name-${3:?host number}" link set eth0 up
    ;;
stop)
    for namespace in $(ip netns list | awk '{print $1}' | grep -E "^$name-([0-9]+|net)$" || true); do
        for pid in $(ip netns pids "$namespace" 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null || true
        done
        ip netns del "$namespace"
    done
    ;;
*)
    echo "usage: hosts.sh start NAME N | run NAME I CMD... | cut NAME I | mend NAME I | stop NAME" >&2
    exit 2
    ;;
esac
