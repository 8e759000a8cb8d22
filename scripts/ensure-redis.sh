#!/usr/bin/env bash
# Make sure a Redis answers at $REDIS_URL (default redis://127.0.0.1:6379/0). When nothing listens
# there and the host is loopback, start redis-server on that port (installing Debian's package first
# when it is absent; its files go to .run/). Prints one line; on a failure, one line saying why and
# how to fix it.
set -uo pipefail
url=${REDIS_URL:-redis://127.0.0.1:6379/0}
case "$url" in redis://*) ;; *) echo "redis: REDIS_URL=$url: only redis:// URLs are started or checked here" >&2; exit 1;; esac
hostport=${url#redis://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$hostport" ] && port=6379
[ -n "$host" ] || host=127.0.0.1

ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$url" ping 2>/dev/null | grep -q PONG
  else
    (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null
  fi
}
listening() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

ping && { echo "redis: answering at $host:$port"; exit 0; }
if listening; then
  echo "redis: port $port on $host is in use by something that does not answer Redis PING; stop it or set REDIS_URL to a free port" >&2
  exit 1
fi
case "$host" in 127.*|localhost) ;; *)
  echo "redis: nothing answers at $host:$port and it is not this machine; start Redis there or set REDIS_URL" >&2; exit 1;; esac
if ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "redis: installing Debian's redis-server"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server; } >/dev/null 2>&1 \
    || { echo "redis: redis-server is not installed and apt-get could not install it; install Redis 6+ or set REDIS_URL to a running one" >&2; exit 1; }
fi
mkdir -p .run
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$PWD/.run" --logfile "$PWD/.run/redis-$port.log" --pidfile "$PWD/.run/redis-$port.pid" >/dev/null
for _ in $(seq 50); do
  ping && { echo "redis: nothing answered at $host:$port, so started redis-server there (stop it: redis-cli -p $port shutdown)"; exit 0; }
  sleep 0.1
done
echo "redis: redis-server did not start on port $port; see .run/redis-$port.log" >&2; exit 1
