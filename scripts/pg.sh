#!/usr/bin/env bash
# A private PostgreSQL server for shotline's tests and benchmarks: Debian's `postgresql`
# binaries, a fresh data folder (initdb), a unix socket in that folder and 127.0.0.1 on a free
# port. Nothing of the host's clusters (/etc/postgresql, /var/lib/postgresql) is touched.
#
# Usage: scripts/pg.sh start|stop|status|env
#   start   install what is missing (apt), initdb, start the server and wait until it answers;
#           prints `export SHOTLINE_TEST_PG=postgres://…` for the caller (eval it)
#   stop    stop the server started by `start` and remove its folder
#   status  pg_isready against it, exit 1 when it is not up
#   env     prints `export SHOTLINE_TEST_PG=…`
#
# The folder is $SHOTLINE_PG_DIR (default /tmp/shotline-pg). PostgreSQL refuses to run as
# root: as root the server runs as the `postgres` system user (created by the Debian package),
# the folder is given to it. The superuser role is `shotline`, trusted on the socket and on
# 127.0.0.1 only (a test server: no password to leak; never expose it). Tests create one
# database per test from SHOTLINE_TEST_PG.
set -euo pipefail

dir=${SHOTLINE_PG_DIR:-/tmp/shotline-pg}
data=$dir/data
log() { echo "pg.sh: $*" >&2; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root (or sudo) for: $*"; exit 2
  fi
}

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  echo "$d"
}

install_packages() {
  if [[ -z $(bindir) ]]; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
}

# Runs a server binary as the server's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_file() { echo "$dir/port"; }

free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

url() {
  local port
  port=$(cat "$(port_file)")
  echo "postgres://shotline@127.0.0.1:$port/postgres?sslmode=disable"
}

print_env() { echo "export SHOTLINE_TEST_PG='$(url)'"; }

is_up() {
  [[ -f $(port_file) ]] && "$(bindir)/pg_isready" -q -h "$dir" -p "$(cat "$(port_file)")"
}

start() {
  install_packages
  local bin
  bin=$(bindir)
  if is_up; then
    print_env
    return
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
  chmod 700 "$dir"
  local port
  port=$(free_port)
  echo "$port" >"$(port_file)"
  as_owner "$bin/initdb" -D "$data" -U shotline --auth=trust --encoding=UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # Many tests create their own database at once; keep memory small and fsync on (real).
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 64MB
log_min_messages = warning
EOF
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  for _ in $(seq 1 60); do
    is_up && break
    sleep 1
  done
  is_up || { log "server did not answer; see $dir/server.log"; exit 1; }
  print_env
}

stop() {
  local bin
  bin=$(bindir)
  if [[ -d $data ]]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if is_up; then log "up: $(url)"; else log "not running"; exit 1; fi ;;
  env)
    [[ -f $(port_file) ]] || { log "not started; run scripts/pg.sh start"; exit 1; }
    print_env ;;
  *) echo "usage: scripts/pg.sh start|stop|status|env" >&2; exit 2 ;;
esac
