#!/usr/bin/env bash
# SeaweedFS, the S3-compatible object store the upload tests run against (issue 19). Sourced by
# .ci/run; also usable by hand:
#
#   bash .ci/seaweedfs.sh start     builds weed once (cached), starts it, prints the export line
#   bash .ci/seaweedfs.sh stop
#
# weed is built from the Go module proxy (the only version served here). `go install …@version`
# refuses it (its go.mod has replace directives), so the module is downloaded and built in a
# copy; the binary is kept as $(go env GOPATH)/bin/weed with a stamp of its version, so only the
# first run pays for the build (about 15–25 minutes on a busy 2-core machine).

WEED_MODULE=github.com/seaweedfs/seaweedfs
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_BIN="$(go env GOPATH)/bin/weed"
WEED_DIR=${WEED_DIR:-/tmp/shiliu-seaweedfs}
WEED_ACCESS_KEY=${WEED_ACCESS_KEY:-shiliu-test}
WEED_SECRET_KEY=${WEED_SECRET_KEY:-shiliu-test-secret-key-0123456789}
WEED_BUCKET=${WEED_BUCKET:-shiliu-test}

# weed_build: the cached binary, or a fresh build of WEED_VERSION.
weed_build() {
	if [ -x "$WEED_BIN" ] && [ "$(cat "$WEED_BIN.version" 2>/dev/null)" = "$WEED_VERSION" ]; then
		echo "weed: cached $WEED_BIN ($WEED_VERSION)"
		return 0
	fi
	echo "weed: building $WEED_MODULE@$WEED_VERSION (once; cached in $WEED_BIN)"
	local src tmp start=$SECONDS
	src=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$WEED_MODULE@$WEED_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || return 1
	[ -n "$src" ] && [ -d "$src" ] || { echo "weed: go mod download gave no source directory" >&2; return 1; }
	tmp=$(mktemp -d /tmp/seaweedfs-src.XXXXXX)
	cp -r "$src/." "$tmp/" && chmod -R u+w "$tmp" || return 1
	mkdir -p "$(dirname "$WEED_BIN")"
	if (cd "$tmp" && GOFLAGS=-buildvcs=false go build -o "$WEED_BIN.new" ./weed); then
		mv "$WEED_BIN.new" "$WEED_BIN"
		echo "$WEED_VERSION" >"$WEED_BIN.version"
		rm -rf "$tmp"
		echo "weed: built in $((SECONDS - start))s"
	else
		rm -rf "$tmp"
		return 1
	fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# weed_start: a fresh single-node SeaweedFS (master, volume, filer, S3) on free ports, data under
# WEED_DIR; sets WEED_S3_PORT and SHILIU_TEST_S3_URL and waits until a bucket can be written.
# Each server also listens on its port + 10000 (gRPC). The blocks lie below Linux's ephemeral
# range (32768-60999): there an outgoing connection of the tests or of anything else on the
# machine may hold a port that nothing listens on, and weed then dies on bind. A weed that dies
# at start is tried again on the next free block.
weed_start() {
	weed_stop
	local base p ok
	for base in 18300 19300 20300 21300 22300; do
		ok=1
		for p in $base $((base + 33)) $((base + 80)) $((base + 88)); do
			port_free "$p" && port_free $((p + 10000)) || ok=0
		done
		if [ $ok = 1 ]; then
			weed_start_on "$base" && return 0
			[ $? = 2 ] || return 1 # not an exit at start: another block would not help
		fi
	done
	echo "weed: no port block where it starts" >&2
	return 1
}

# weed_start_on BASE: weed_start's work on one port block; 2 when weed exited at start.
weed_start_on() {
	local base=$1
	WEED_S3_PORT=$base
	rm -rf "$WEED_DIR"
	mkdir -p "$WEED_DIR/data"
	cat >"$WEED_DIR/s3.json" <<JSON
{"identities": [{"name": "shiliu", "credentials": [{"accessKey": "$WEED_ACCESS_KEY", "secretKey": "$WEED_SECRET_KEY"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
JSON
	"$WEED_BIN" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$WEED_DIR/data" \
		-master.port=$((base + 33)) -master.volumeSizeLimitMB=64 -master.telemetry=false \
		-volume.port=$((base + 80)) -volume.max=200 -volume.preStopSeconds=0 \
		-filer -filer.port=$((base + 88)) \
		-s3 -s3.port="$base" -s3.config="$WEED_DIR/s3.json" \
		>"$WEED_DIR/weed.log" 2>&1 &
	echo $! >"$WEED_DIR/weed.pid"
	SHILIU_TEST_S3_URL="s3://$WEED_ACCESS_KEY:$WEED_SECRET_KEY@127.0.0.1:$base/$WEED_BUCKET?secure=false&lookup=path"
	export SHILIU_TEST_S3_URL
	# Ready when the S3 gateway takes a bucket and an object (the volume server has joined):
	# `shiliu uploads migrate --create-bucket` on an empty directory does exactly that.
	local empty i
	empty=$(mktemp -d)
	for ((i = 0; i < 120; i++)); do
		if ! kill -0 "$(cat "$WEED_DIR/weed.pid")" 2>/dev/null; then
			echo "weed: exited on the ports from $base; its log:" >&2
			tail -30 "$WEED_DIR/weed.log" >&2
			weed_stop
			rmdir "$empty"
			return 2
		fi
		if go run ./server/cmd/shiliu uploads migrate --from "$empty" --to "$SHILIU_TEST_S3_URL" --create-bucket >/dev/null 2>&1; then
			rmdir "$empty"
			echo "weed: S3 on 127.0.0.1:$base, bucket $WEED_BUCKET, data in $WEED_DIR (pid $(cat "$WEED_DIR/weed.pid"))"
			return 0
		fi
		sleep 1
	done
	rmdir "$empty"
	echo "weed: S3 did not accept a write in 120 s; its log:" >&2
	tail -30 "$WEED_DIR/weed.log" >&2
	return 1
}

# weed_stop: stops the weed this script started (by its pid file), if it runs.
weed_stop() {
	local pid
	pid=$(cat "$WEED_DIR/weed.pid" 2>/dev/null) || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$WEED_DIR/weed.pid"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	cd "$(dirname "${BASH_SOURCE[0]}")/.."
	case "${1:-}" in
	start)
		weed_build
		weed_start
		echo "export SHILIU_TEST_S3_URL='$SHILIU_TEST_S3_URL'"
		;;
	stop) weed_stop ;;
	build) weed_build ;;
	*)
		echo "usage: bash .ci/seaweedfs.sh start|stop|build" >&2
		exit 2
		;;
	esac
fi
