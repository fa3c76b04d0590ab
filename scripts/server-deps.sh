#!/usr/bin/env bash
# Installs the servers the Go tests run for real when they are missing:
# PostgreSQL (Debian's postgresql-15: the registry's second store, its test
# suite and the multi-replica test) and nginx (Debian's nginx: the load
# balancer in front of the replicas). Nothing is started or enabled: the
# tests run throwaway instances in temporary directories as a non-root user
# (internal/pgtest, and the replica test's own nginx.conf); without an init
# system Debian's maintainer scripts start no service.
#
# `make test` runs it (make server-deps). Under CI=true a server that is still
# missing afterwards is a failure; otherwise its tests skip.
#
#   bash scripts/server-deps.sh
set -u

have_postgres() {
	[ -n "${PGTEST_BIN:-}" ] && [ -x "$PGTEST_BIN/postgres" ] && return 0
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && return 0
	command -v postgres >/dev/null 2>&1
}

have_nginx() {
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]
}

packages=()
have_postgres || packages+=(postgresql-15)
have_nginx || packages+=(nginx)

if [ ${#packages[@]} -gt 0 ]; then
	echo "installing ${packages[*]} (Debian packages)"
	if [ "$(id -u)" -eq 0 ]; then
		apt_get=(apt-get)
	elif command -v sudo >/dev/null 2>&1; then
		apt_get=(sudo -n apt-get)
	else
		apt_get=()
	fi
	if [ ${#apt_get[@]} -gt 0 ]; then
		# One update for both; -qq and the redirect keep make test's log short.
		("${apt_get[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${packages[@]}") >/dev/null ||
			echo "apt-get install ${packages[*]} failed"
	else
		echo "not root and no sudo: cannot install ${packages[*]}"
	fi
fi

status=0
if ! have_postgres; then
	echo "PostgreSQL is missing (install Debian's postgresql-15, or set PGTEST_BIN): its tests skip, and fail under CI=true"
	[ "${CI:-}" = true ] && status=1
fi
if ! have_nginx; then
	echo "nginx is missing (install Debian's nginx): the multi-replica test skips, and fails under CI=true"
	[ "${CI:-}" = true ] && status=1
fi
exit $status
