# Sourced by the project's scripts: the Swift toolchain and /usr/local (librdkafka) on the paths.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
export PKG_CONFIG_PATH="/usr/local/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="/usr/local/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# A free TCP port on loopback, below the kernel's ephemeral range when there is room: a port of
# that range can be taken by any process's outgoing connection between its pick and its use.
free_port() {
  python3 - <<'PY'
import random, socket
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
candidates = [random.randrange(10000, low) for _ in range(200)] if low - 10000 >= 1000 else []
for port in candidates + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()
PY
}

# Whether process PID runs the program PROGRAM (its argv[0] ends with it): a pid file left from
# before a reboot may name an unrelated process now, which a stop must not kill.
pid_runs() {
  local argv0
  argv0=$({ tr '\0' '\n' <"/proc/$1/cmdline"; } 2>/dev/null | head -n 1) || return 1
  [ -n "$argv0" ] && [ "${argv0%"$2"}" != "$argv0" ]
}
