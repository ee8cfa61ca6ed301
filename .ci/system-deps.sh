#!/usr/bin/env bash
# Install the system packages the tests use, one package at a time, and only those whose
# command (or module) is missing: a machine with Node.js from another repository keeps it
# (asking apt for `npm` there conflicts with that `nodejs`). A package that cannot be installed
# is one line here and in $STATE; the tests that need it skip, naming that line
# (tests/tools.py reads $STATE). Never fails: the rest of the tests still run.
set -u
STATE=${1:-.venv/system-deps.txt}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
mkdir -p "$(dirname "$STATE")"
: >"$STATE"

# package  check (cmd NAME | file PATH | py MODULE, for Debian's /usr/bin/python3)
WANT='
skopeo          cmd skopeo
umoci           cmd umoci
docker-registry file /usr/bin/docker-registry
apache2-utils   cmd htpasswd
debootstrap     cmd debootstrap
openssl         cmd openssl
ca-certificates file /etc/ssl/certs/ca-certificates.crt
nodejs          cmd node
npm             cmd npm
rpm             cmd rpm
db-util         cmd db_load
python3-apt     py apt_pkg
python3-rpm     py rpm
golang-go       cmd go
time            file /usr/bin/time
podman          cmd podman
runc            cmd runc
patchelf        cmd patchelf
postgresql      file /usr/lib/postgresql/15/bin/initdb
chromium        cmd chromium
chromium-driver cmd chromedriver
redis-server    cmd redis-server
'

present() {
  case "$1" in
    cmd) command -v "$2" >/dev/null 2>&1 ;;
    file) [ -e "$2" ] ;;
    py) [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import $2" >/dev/null 2>&1 ;;
  esac
}

updated=""
echo "$WANT" | while read -r pkg kind what; do
  [ -n "$pkg" ] || continue
  present "$kind" "$what" && continue
  if ! command -v apt-get >/dev/null 2>&1; then
    line="$pkg: not installed and no apt-get here (install it by hand for the tests that use $what)"
    echo "system-deps: $line"; echo "$line" >>"$STATE"; continue
  fi
  if [ -z "$updated" ]; then
    # A dpkg run cut short (a killed install, a reboot mid-upgrade) blocks every apt-get
    # install with "dpkg was interrupted"; finishing it is what apt itself asks for.
    if [ -n "$($SUDO dpkg --audit 2>/dev/null)" ]; then
      echo "system-deps: finishing an interrupted dpkg run (dpkg --configure -a)"
      DEBIAN_FRONTEND=noninteractive $SUDO dpkg --configure -a >/dev/null 2>&1 </dev/null \
        || echo "system-deps: dpkg --configure -a failed; installs below may fail too"
    fi
    $SUDO apt-get update -qq >/dev/null 2>&1 || echo "system-deps: apt-get update failed; trying the package lists there are"
    updated=1
  fi
  echo "system-deps: installing $pkg (for $what)"
  if ! out=$(DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$pkg" 2>&1 </dev/null); then
    why=$(printf '%s\n' "$out" | grep -E '^E: ' | head -1)
    line="$pkg: apt-get install failed (${why:-$(printf '%s\n' "$out" | tail -1)}); tests that need $what skip"
    echo "system-deps: $line"; echo "$line" >>"$STATE"
  elif ! present "$kind" "$what"; then
    line="$pkg: installed, but $what is still missing; tests that need it skip"
    echo "system-deps: $line"; echo "$line" >>"$STATE"
  fi
done
exit 0
