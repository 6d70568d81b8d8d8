# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings below are used by the scripts that source this file
# Shared helpers for deploy/local/{up,down,kafka,clickhouse}. Sourced, not run.
#
# Everything a script says goes to stderr: stdout is reserved for the
# `export NAME=value` lines that deploy/local/up prints.

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_DIR/../.." && pwd)"
STATE_DIR="${CDR_LOCAL_STATE:-$REPO_ROOT/.local}"
CACHE_DIR="${CDR_LOCAL_CACHE:-${HOME:-/root}/.cache/cdr-pipeline}"
STATE_DIR="$(realpath -m -- "$STATE_DIR")"
CACHE_DIR="$(realpath -m -- "$CACHE_DIR")"
BIND_HOST=127.0.0.1
# Ports and names: the public settings `up` exports are derived from these.
KAFKA_PORT="${CDR_LOCAL_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${CDR_LOCAL_KAFKA_CONTROLLER_PORT:-19093}"
CH_TCP_PORT="${CDR_LOCAL_CLICKHOUSE_TCP_PORT:-19000}"
CH_HTTP_PORT="${CDR_LOCAL_CLICKHOUSE_HTTP_PORT:-18123}"
CH_DATABASE=cdr
START_TIMEOUT="${CDR_LOCAL_START_TIMEOUT:-90}"
STOP_TIMEOUT="${CDR_LOCAL_STOP_TIMEOUT:-30}"

for _port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$CH_TCP_PORT" "$CH_HTTP_PORT"; do
    if [[ ! "$_port" =~ ^[0-9]+$ ]] || ((_port < 1 || _port > 65535)); then
        printf '[local] ERROR: bad port %s in CDR_LOCAL_*_PORT\n' "$_port" >&2
        exit 2
    fi
done
unset _port

log() { printf '[local] %s\n' "$*" >&2; }
die() {
    printf '[local] ERROR: %s\n' "$*" >&2
    exit 1
}

# port_open PORT: true when something accepts TCP connections on BIND_HOST:PORT.
port_open() {
    # shellcheck disable=SC2016  # $0/$1 belong to the inner shell
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$BIND_HOST" "$1" 2>/dev/null
}

# who_listens PORT: best-effort description of the process bound to PORT.
who_listens() {
    if command -v ss >/dev/null 2>&1; then
        ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(\(.*\))$/\1/p' | head -n 1
    fi
}

# read_pid PIDFILE: prints the pid stored in PIDFILE (nothing when absent/garbage).
read_pid() {
    local pid=''
    [[ -f "$1" ]] && pid="$(tr -dc '0-9' <"$1")"
    printf '%s' "$pid"
}

# pid_alive PIDFILE MARKER: true when PIDFILE names a live process whose command
# line contains MARKER (guards against a recycled pid after a reboot or crash).
pid_alive() {
    local pid
    pid="$(read_pid "$1")"
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 0
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 0
    # empty while the process is still exec'ing (spawn writes the pid just before exec;
    # loading a large binary such as clickhouse takes a moment): alive, not yet known
    [[ -n "$cmdline" ]] || return 0
    grep -qF -- "$2" <<<"$cmdline"
}

# rss_mib PID: resident memory of PID in MiB.
rss_mib() {
    local kb
    kb="$(ps -o rss= -p "$1" 2>/dev/null | tr -d ' ')"
    [[ -n "$kb" ]] && printf '%s' "$((kb / 1024))"
    return 0
}

# spawn PIDFILE LOGFILE CMD...: starts CMD in its own session, detached from the
# caller (no stdin, stdout+stderr to LOGFILE, SIGHUP ignored), and records the
# pid of CMD itself in PIDFILE. Lock fds (9) are not inherited.
spawn() {
    local pidfile="$1" logfile="$2"
    shift 2
    rm -f "$pidfile"
    # shellcheck disable=SC2016  # $$ and $@ are for the inner shell
    nohup setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@" \
        </dev/null >>"$logfile" 2>&1 9>&- &
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s "$pidfile" ]] && return 0
        sleep 0.1
    done
    die "could not start $1 (no pid file $pidfile); see $logfile"
}

# stop_pid NAME PIDFILE MARKER: TERM, wait up to STOP_TIMEOUT s, then KILL.
stop_pid() {
    local name="$1" pidfile="$2" marker="$3" pid i
    if ! pid_alive "$pidfile" "$marker"; then
        rm -f "$pidfile"
        log "$name: not running"
        return 0
    fi
    pid="$(read_pid "$pidfile")"
    log "$name: stopping pid $pid (TERM, KILL after ${STOP_TIMEOUT}s)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: still alive after ${STOP_TIMEOUT}s, sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$pidfile"
    log "$name: stopped"
}

# take_lock FILE: serialise start/stop of one service (fd 9, released on exit).
take_lock() {
    mkdir -p "$(dirname "$1")"
    exec 9>"$1"
    flock -w 300 9 || die "timed out waiting for lock $1"
}

# rotate_log FILE: keep one previous log as FILE.1.
rotate_log() {
    [[ -s "$1" ]] && mv -f "$1" "$1.1"
    : >"$1"
}

# show_log_tail FILE: last lines of a log, to stderr.
show_log_tail() {
    if [[ -s "$1" ]]; then
        log "---- last lines of $1 ----"
        tail -n 25 "$1" >&2
        log "---- end of $1 ----"
    fi
}

# apt_install PKG...: non-interactive apt-get install (root only), with an
# `apt-get update` retry when the package lists are missing or stale.
apt_install() {
    [[ "$(id -u)" -eq 0 ]] || die "missing package(s) $*; install them: sudo apt-get install -y $*"
    command -v apt-get >/dev/null 2>&1 || die "missing package(s) $* and no apt-get to install them"
    log "apt-get install $* ..."
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "$@" >&2; then
        log "apt-get install failed; running apt-get update and retrying"
        apt-get update >&2 || true
        apt-get install -y --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
    fi
}

# python_with MODULE: prints a python interpreter that can import MODULE
# (the repo's .venv first), or nothing.
python_with() {
    local py
    for py in "$REPO_ROOT/.venv/bin/python" python3; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c "import $1" >/dev/null 2>&1; then
            printf '%s' "$py"
            return 0
        fi
    done
}
