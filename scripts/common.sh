# scripts/common.sh: shared by scripts/check and scripts/demo (sourced, not run).
# shellcheck shell=bash

# Debian packages the build, the tests and the demo need. Add new ones here.
PACKAGES=(
	build-essential autoconf automake libtool pkg-config
	libfcgi-dev libjson-c-dev libcurl4-openssl-dev libpq-dev
	libmemcached-dev libssl-dev check
	caddy memcached postgresql python3 wrk curl spawn-fcgi
	chromium prometheus prometheus-alertmanager graphite-carbon
	python3-whisper python3-yaml clang
	systemd man-db groff-base
)
# Node.js runs the MCP SDK client, the OpenAPI validator and the widget
# renderer in the tests: Debian's packages unless a node is already there.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	PACKAGES+=(nodejs npm)
fi

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly, or through sudo.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root or sudo to run: $*"
	fi
}

# Install the packages that are missing (apt-get update once, only then).
ensure_packages() {
	local missing=() p
	command -v dpkg-query >/dev/null 2>&1 ||
		die "not a Debian system (no dpkg-query); install by hand: ${PACKAGES[*]}"
	for p in "${PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	say "installing: ${missing[*]}"
	as_root apt-get update
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
}

# Parallel jobs: $JOBS, else the number of CPUs.
jobs() {
	echo "${JOBS:-$(nproc 2>/dev/null || echo 2)}"
}

# Generate configure once per source change (autoreconf is idempotent).
bootstrap() {
	if [ -f "$TOP/config.status" ]; then
		die "$TOP is configured in-tree; run 'make distclean' there first (builds are out of tree)"
	fi
	if [ ! -x "$TOP/configure" ] || [ "$TOP/configure.ac" -nt "$TOP/configure" ] ||
		[ "$TOP/Makefile.am" -nt "$TOP/Makefile.in" ]; then
		say "autoreconf"
		(cd "$TOP" && autoreconf -fi)
	fi
}

# Configure (if needed) and build in directory $1 with configure flags $2...
build_in() {
	local dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$TOP/configure" -nt "$dir/Makefile" ] ||
		[ "$(cat "$dir/.configure-flags" 2>/dev/null)" != "$*" ]; then
		say "configure $* (in $dir)"
		(cd "$dir" && "$TOP/configure" "$@" >configure.out 2>&1) || {
			tail -n 30 "$dir/configure.out" >&2
			die "configure failed (log: $dir/config.log)"
		}
		echo "$*" >"$dir/.configure-flags"
	fi
	say "make (in $dir)"
	make -C "$dir" -j"$(jobs)"
}
