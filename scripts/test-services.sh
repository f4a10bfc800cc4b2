#!/usr/bin/env bash
# Installs (from Debian's packages) and starts what the integration tests talk to:
# Dovecot, which the tests run themselves on a loopback port, a PostgreSQL cluster with a
# superuser role for the current OS user so the tests connect over the local socket, and the
# tools the fault tests break things with.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  missing+=(dovecot-imapd)
fi
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  missing+=(postgresql)
fi
# Fault tests: a second instance whose clock runs ahead (faketime), its own host name (unshare,
# util-linux), a small tmpfs to fill (mount).
if ! command -v faketime >/dev/null 2>&1; then
  missing+=(faketime)
fi
# The desk's browser tests: Debian's Chromium and its driver (Selenium downloads nothing).
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if ! command -v chromedriver >/dev/null 2>&1; then
  missing+=(chromium-driver)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  read -r version cluster _ < <(pg_lsclusters -h | head -n 1) || true
  if [ -z "${version:-}" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    cluster=main
    $SUDO pg_createcluster "$version" "$cluster"
  fi
  $SUDO pg_ctlcluster "$version" "$cluster" start
fi

me=$(id -un)
if ! $SUDO runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$me'" | grep -q 1; then
  $SUDO runuser -u postgres -- createuser --superuser "$me"
fi
echo "test services ready: dovecot $(dovecot --version 2>/dev/null || /usr/sbin/dovecot --version), $(pg_lsclusters -h | awk '$4 == "online" {print "PostgreSQL " $1 " on port " $3}' | head -n 1)"
