#!/usr/bin/env bash
# Starts, on this machine, the Redis sets the failover tests run against (idempotent: whatever
# already answers is left alone, so a second run takes a fraction of a second):
#
#   Sentinel: master 127.0.0.1:6479, replica :6480, sentinels :26479 :26480 :26481 (master "shiliu")
#             SHILIU_TEST_SENTINEL_URL=redis-sentinel://127.0.0.1:26479,127.0.0.1:26480,127.0.0.1:26481/shiliu/0
#   Cluster:  three masters 127.0.0.1:7479 :7480 :7481, no replicas
#             SHILIU_TEST_CLUSTER_URL=redis-cluster://127.0.0.1:7479,127.0.0.1:7480,127.0.0.1:7481
#
# A data node that died (the failover test kills the master) is started again from its own
# config file; the sentinels make it a replica of the master they promoted meanwhile.
# Exits non-zero when a set does not come up within 30 s.
set -euo pipefail

DIR=${SHILIU_REDIS_HA_DIR:-/tmp/shiliu-redis-ha}
mkdir -p "$DIR"

ping() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

wait_ping() {
	local i
	for ((i = 0; i < 30; i++)); do
		ping "$1" && return 0
		sleep 1
	done
	echo "redis on port $1 did not answer within 30 s (log: $DIR/$1.log)" >&2
	return 1
}

# data_node PORT [EXTRA CONFIG LINES]: a config file written once, then the server started from it.
data_node() {
	local port=$1 conf="$DIR/$1.conf"
	shift
	ping "$port" && return 0
	if [ ! -f "$conf" ]; then
		mkdir -p "$DIR/$port"
		{
			echo "port $port"
			echo "bind 127.0.0.1"
			echo "daemonize yes"
			echo "dir $DIR/$port"
			echo "logfile $DIR/$port.log"
			echo "pidfile $DIR/$port.pid"
			echo "save \"\""
			echo "appendonly no"
			local l
			for l in "$@"; do echo "$l"; done
		} >"$conf"
	fi
	redis-server "$conf"
}

sentinel_node() {
	local port=$1 conf="$DIR/s$1.conf"
	ping "$port" && return 0
	# A sentinel rewrites its file (known replicas, the current master): it is written once.
	if [ ! -f "$conf" ]; then
		cat >"$conf" <<CONF
port $port
bind 127.0.0.1
daemonize yes
dir $DIR
logfile $DIR/s$port.log
pidfile $DIR/s$port.pid
sentinel monitor shiliu 127.0.0.1 6479 2
sentinel down-after-milliseconds shiliu 1000
sentinel failover-timeout shiliu 5000
sentinel parallel-syncs shiliu 1
CONF
	fi
	redis-server "$conf" --sentinel
}

sentinel() {
	if [ -f "$DIR/s26479.conf" ] && ! ping 6479 && ! ping 6480; then
		# Both data nodes down (a reboot): start again from scratch, 6479 the master.
		rm -f "$DIR"/s2648?.conf "$DIR"/s26479.conf "$DIR/6479.conf" "$DIR/6480.conf"
	fi
	data_node 6479
	# The replica's file names its master only the first time; later the sentinels rewrite it.
	data_node 6480 "replicaof 127.0.0.1 6479"
	local p
	for p in 26479 26480 26481; do sentinel_node $p; done
	for p in 6479 6480 26479 26480 26481; do wait_ping $p; done
	# Wait until the sentinels agree on a master that has its replica connected.
	local i master
	for ((i = 0; i < 30; i++)); do
		master=$(redis-cli -p 26479 sentinel get-master-addr-by-name shiliu 2>/dev/null | sed -n 2p)
		if [ -n "$master" ] && [ "$(redis-cli -p "$master" info replication | tr -d '\r' | sed -n 's/^connected_slaves://p')" = 1 ] &&
			[ "$(redis-cli -p 26479 sentinel master shiliu | tr -d '\r' | grep -A1 '^num-other-sentinels$' | tail -1)" = 2 ]; then
			echo "sentinel: master 127.0.0.1:$master with 1 replica, 3 sentinels"
			return 0
		fi
		sleep 1
	done
	echo "sentinel set did not settle within 30 s (logs in $DIR)" >&2
	return 1
}

cluster() {
	local p
	for p in 7479 7480 7481; do
		data_node $p "cluster-enabled yes" "cluster-config-file $DIR/nodes-$p.conf" "cluster-node-timeout 2000"
	done
	for p in 7479 7480 7481; do wait_ping $p; done
	if [ "$(redis-cli -p 7479 cluster info | tr -d '\r' | sed -n 's/^cluster_state://p')" != ok ]; then
		if [ "$(redis-cli -p 7479 cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" = 1 ]; then
			redis-cli --cluster create 127.0.0.1:7479 127.0.0.1:7480 127.0.0.1:7481 --cluster-yes >"$DIR/cluster-create.log"
		fi
		local i
		for ((i = 0; i < 30; i++)); do
			[ "$(redis-cli -p 7479 cluster info | tr -d '\r' | sed -n 's/^cluster_state://p')" = ok ] && break
			sleep 1
		done
	fi
	if [ "$(redis-cli -p 7479 cluster info | tr -d '\r' | sed -n 's/^cluster_state://p')" != ok ]; then
		echo "cluster on 7479-7481 is not ok (logs in $DIR; remove $DIR/nodes-*.conf and the nodes to start afresh)" >&2
		return 1
	fi
	echo "cluster: ok, 3 masters on 7479-7481"
}

case "${1:-all}" in
sentinel) sentinel ;;
cluster) cluster ;;
all) sentinel && cluster ;;
*) echo "usage: $0 [sentinel|cluster|all]" >&2; exit 2 ;;
esac
