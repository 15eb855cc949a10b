#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian machine: install the real servers the integration
# tests start (Dovecot, Postfix, Prometheus) when they are missing, then run every test.
# The system daemons are never started: policy-rc.d refuses invoke-rc.d while we install.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-sieve postfix openssl prometheus)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test.sh: missing packages: ${missing[*]} (run once as root to install them)" >&2
    exit 1
  fi
  echo "test.sh: installing ${missing[*]}" >&2
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# The harness fails (never skips) a test whose real server is missing.
# Unit tests, the binary and the integration tests; benches are compiled by clippy --all-targets
# and run by bench/run.sh, not here.
cargo test --locked --lib --bins --tests "$@"
