#!/usr/bin/env bash
# Installs what skiff needs on a fresh Debian or Ubuntu machine, then its npm
# dependencies (which pin Node 24, whatever Node the system has). Run as root
# (or with sudo).
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

# command → Debian package that provides it
declare -A needed=([ip]=iproute2 [unshare]=util-linux [update-ca-certificates]=ca-certificates)
# containers: runc runs them; script/nsenter (util-linux) give exec a tty and enter pod namespaces
needed+=([runc]=runc [script]=bsdutils [nsenter]=util-linux)
# images: setfattr marks opaque directories in unpacked layers for overlayfs; docker-registry is the loopback registry the pull tests run
needed+=([setfattr]=attr [docker-registry]=docker-registry)
# pod network: nft programs masquerade (and later Service VIPs); iptables is the fallback where nft is missing
needed+=([nft]=nftables [iptables]=iptables)
# service proxy: conntrack clears stale UDP flows to removed endpoints; wrk drives bench/service-vip.ts; curl is the e2e tests' HTTP client inside namespaces
needed+=([conntrack]=conntrack [wrk]=wrk [curl]=curl)
# DNS benchmark (bench/dns.ts): dnsperf drives the load, dnsmasq is the baseline server
needed+=([dnsperf]=dnsperf [dnsmasq]=dnsmasq-base)
# ingress benchmark (bench/ingress.ts, with wrk above): HAProxy is the baseline proxy and serves the backends
needed+=([haproxy]=haproxy)
# A Node.js from elsewhere (e.g. NodeSource) brings its own npm; Debian's npm would conflict with it.
command -v npm >/dev/null 2>&1 || needed[npm]="nodejs npm"
missing=()
for cmd in "${!needed[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing+=(${needed[$cmd]}); done
# The tests' container images are built from a static busybox (a dynamic one would not run inside them).
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup.sh: note: kubectl is not installed; the end-to-end tests and the README's examples use it" >&2
fi
