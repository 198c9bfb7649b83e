#!/usr/bin/env bash
# Starts, on this machine, a MariaDB primary (127.0.0.1:3317, binlog on) and its replica
# (127.0.0.1:3318, GTID replication) for the read-replica tests, apart from the MariaDB on 3306
# (which runs without a binlog). Idempotent: servers that answer are left alone, replication that
# runs is left alone, so a second run takes well under a second.
#
#   SHILIU_TEST_REPLICA_PRIMARY_DSN='root@tcp(127.0.0.1:3317)/'
#   SHILIU_TEST_REPLICA_DSN='root@tcp(127.0.0.1:3318)/'
#
# Exits non-zero when either server or the replication does not come up within 60 s.
set -euo pipefail

DIR=${SHILIU_MARIADB_HA_DIR:-/tmp/shiliu-mariadb-ha}
mkdir -p "$DIR"

sock() { echo "$DIR/$1.sock"; }
alive() { mariadb-admin --socket="$(sock "$1")" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

# node NAME PORT SERVER_ID EXTRA...: a data directory initialised once, then mariadbd started.
node() {
	local name=$1 port=$2 id=$3
	shift 3
	alive "$name" && return 0
	if [ ! -d "$DIR/$name/mysql" ]; then
		mariadb-install-db --no-defaults --user=root --datadir="$DIR/$name" --auth-root-authentication-method=normal \
			--skip-test-db >"$DIR/$name-install.log" 2>&1 || { cat "$DIR/$name-install.log" >&2; return 1; }
	fi
	# Small buffers: the machine is shared and the tests hold a few rows.
	nohup mariadbd --no-defaults --user=root --datadir="$DIR/$name" --port="$port" --bind-address=127.0.0.1 \
		--socket="$(sock "$name")" --pid-file="$DIR/$name.pid" --server-id="$id" --skip-name-resolve \
		--innodb-buffer-pool-size=32M --innodb-log-file-size=16M --performance-schema=OFF \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--log-error="$DIR/$name.err" "$@" >/dev/null 2>&1 &
	local i
	for ((i = 0; i < 60; i++)); do
		alive "$name" && break
		sleep 1
	done
	alive "$name" || { echo "mariadbd $name on $port did not start (see $DIR/$name.err)" >&2; return 1; }
	# root over TCP without a password, on this server only (not written to the binlog).
	mariadb --socket="$(sock "$name")" -uroot -e "SET sql_log_bin=0;
		CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
		GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
}

node primary 3317 17 --log-bin="$DIR/primary/binlog" --binlog-format=ROW --expire-logs-days=1
node replica 3318 18 --relay-log="$DIR/replica/relay" --read-only=ON

# The full-text index of records (migration 44) is a Mroonga table: a node without the engine
# stops replicating at its CREATE TABLE. INSTALL SONAME is kept in mysql.plugin, so a restart
# loads it again; Debian's package is mariadb-plugin-mroonga (.ci/run installs it).
for n in primary replica; do
	if ! mariadb --socket="$(sock "$n")" -uroot -N -e "SELECT 1 FROM information_schema.ENGINES
		WHERE ENGINE = 'Mroonga' AND SUPPORT IN ('YES', 'DEFAULT')" | grep -q 1; then
		mariadb --socket="$(sock "$n")" -uroot -e "SET sql_log_bin=0; INSTALL SONAME 'ha_mroonga'" ||
			{ echo "mariadb $n: the Mroonga engine cannot be loaded (apt-get install mariadb-plugin-mroonga)" >&2; exit 1; }
	fi
done

running() {
	local st
	st=$(mariadb --socket="$(sock replica)" -uroot -e 'SHOW SLAVE STATUS\G' 2>/dev/null)
	grep -q 'Slave_IO_Running: Yes' <<<"$st" && grep -q 'Slave_SQL_Running: Yes' <<<"$st"
}

if ! running; then
	if ! mariadb --socket="$(sock replica)" -uroot -e 'SHOW SLAVE STATUS\G' | grep -q 'Master_Port: 3317'; then
		mariadb --socket="$(sock replica)" -uroot -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=3317,
			MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1"
	fi
	mariadb --socket="$(sock replica)" -uroot -e 'START SLAVE'
	for ((i = 0; i < 60; i++)); do
		running && break
		sleep 1
	done
fi
if ! running; then
	echo "replication 3317 -> 3318 does not run:" >&2
	mariadb --socket="$(sock replica)" -uroot -e 'SHOW SLAVE STATUS\G' >&2 || true
	exit 1
fi
echo "mariadb: primary 127.0.0.1:3317, replica 127.0.0.1:3318 replicating (GTID)"
