#!/bin/sh
# health-check.sh: GET a health URL; prints "Healthy", or "Unhealthy (HTTP NNN)"
# and exits 1 (NNN is 000 when nothing answered). HEALTH_CHECK_CA names a CA
# file for a private certificate (Caddy's internal CA).
# Usage: scripts/health-check.sh https://example.com/health
set -u
url=${1:?usage: health-check.sh URL}
set -- --silent --output /dev/null --write-out '%{http_code}' \
	--max-time "${HEALTH_CHECK_TIMEOUT:-10}"
if [ -n "${HEALTH_CHECK_CA:-}" ]; then
	set -- "$@" --cacert "$HEALTH_CHECK_CA"
fi
code=$(curl "$@" "$url" 2>/dev/null)
case $code in
[0-9][0-9][0-9]) ;;
*) code=000 ;;
esac
if [ "$code" = 200 ]; then
	echo "Healthy"
	exit 0
fi
echo "Unhealthy (HTTP $code)"
exit 1
