#!/usr/bin/env bash
# containerd's CNI path with the Kubernetes node network of the README (conf/containerd/
# 10-sdnet.conflist: bridge + portmap + bandwidth + firewall + tuning), plugins from this build:
# `ctr run --cni` puts a busybox container (image imported from a rootfs tarball, no registry) on
# the network, the host and a second container reach it, and removing the containers leaves
# nothing behind.
#
#   containerd_test.sh PLUGIN_DIR CONFLIST SDNET
#
# Exit status: 0 pass, 77 skip (no containerd, or no privilege unless SDNET_REQUIRE_NETNS=1),
# else fail.
#
# As tests/podman: everything happens in private network, mount and PID namespaces. containerd
# runs with its own root, state and socket in a temporary directory; /run, /var/lib/cni,
# /etc/cni/net.d and /opt/cni/bin (where `ctr run --cni` looks, with no way to change it) are
# private mounts. Containers get cgroups under /$cgroup, removed at the end.
set -euo pipefail

plugin_dir=$(readlink -f "${1:?usage: containerd_test.sh PLUGIN_DIR CONFLIST}")
conflist=$(readlink -f "${2:?usage: containerd_test.sh PLUGIN_DIR CONFLIST SDNET}")
sdnet=$(readlink -f "${3:?usage: containerd_test.sh PLUGIN_DIR CONFLIST SDNET}")
self=$(readlink -f "$0")
skip() {
    [ "${SDNET_NO_SKIP:-}" = 1 ] && fail "$* (SDNET_NO_SKIP=1: not a known kernel gap)"
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Outer part: preconditions, then the inner part in fresh namespaces, then cgroup cleanup.
# ---------------------------------------------------------------------------------------------
if [ "${SDNET_CTR_INNER:-}" != 1 ]; then
    for tool in containerd ctr containerd-shim-runc-v2 runc; do
        command -v "$tool" >/dev/null ||
            skip "$tool is not installed (scripts/setup installs containerd and runc)"
    done
    busybox=$(command -v busybox) || skip "busybox is not installed (package busybox-static)"
    ldd "$busybox" >/dev/null 2>&1 && skip "$busybox is dynamically linked (needs busybox-static)"
    if [ "$(id -u)" -ne 0 ] || ! unshare --net --mount true 2>/dev/null; then
        [ "${SDNET_REQUIRE_NETNS:-}" = 1 ] && fail "cannot unshare net+mount namespaces (not root?)"
        skip "cannot unshare net+mount namespaces (needs root; SDNET_REQUIRE_NETNS=1 makes this fail)"
    fi
    for p in bridge host-local portmap bandwidth firewall tuning; do
        [ -x "$plugin_dir/$p" ] || fail "plugin $p missing from $plugin_dir"
    done

    work=$(mktemp -d /tmp/sdnet-ctr.XXXXXX)
    cgroup=sdnet-ctr-$$
    # shellcheck disable=SC2317
    find_cgroups() {
        find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$cgroup" 2>/dev/null || true
    }
    # shellcheck disable=SC2317 # (called from the EXIT trap)
    finish() {
        local rc=$? dirs d pid left
        dirs=$(find_cgroups)
        for d in $dirs; do
            find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
                kill -KILL "$pid" 2>/dev/null || true
            done
        done
        for d in $dirs; do
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
        done
        left=$(find_cgroups)
        rm -rf "$work"
        if [ -n "$left" ]; then
            echo "FAIL: cgroups left behind: $left" >&2
            [ "$rc" -eq 0 ] && rc=1
        fi
        exit "$rc"
    }
    trap finish EXIT
    trap 'exit 143' TERM INT
    # PID 1 of its own PID namespace: containerd, shims and containers die with it.
    SDNET_CTR_INNER=1 SDNET_CTR_WORK=$work SDNET_CTR_CGROUP=$cgroup \
        unshare --net --mount --pid --fork --mount-proc --propagation private \
        "$self" "$plugin_dir" "$conflist" "$sdnet"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Inner part: private network + mount + PID namespaces.
# ---------------------------------------------------------------------------------------------
work=$SDNET_CTR_WORK
cgroup=$SDNET_CTR_CGROUP
start=$(date +%s%N)
step() { printf '== [%5.1fs] %s\n' "$((($(date +%s%N) - start) / 1000000))e-3" "$*"; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

# A fresh sysfs (so /sys/class/net is this namespace's), keeping the cgroup mounts for runc.
mount -t tmpfs tmpfs "$work"
mkdir "$work/cgroup"
mount --rbind /sys/fs/cgroup "$work/cgroup"
mount -t sysfs sysfs /sys
mount --move "$work/cgroup" /sys/fs/cgroup
# Private overlays of /var/lib and /opt (and /etc when it has no /etc/cni/net.d), so that
# /var/lib/cni, /opt/cni/bin and /etc/cni/net.d can be mount points without creating them on
# the machine. /etc only when needed: an overlay hides what is bind-mounted below it.
overlay() {
    local dir=$1 name=${1//\//_}
    mkdir -p "$work/$name/upper" "$work/$name/work"
    mount -t overlay overlay \
        -o "lowerdir=$dir,upperdir=$work/$name/upper,workdir=$work/$name/work" "$dir"
}
overlay /var/lib
overlay /opt
[ -d /etc/cni/net.d ] || overlay /etc
for dir in /run /var/lib/cni /etc/cni/net.d; do
    mkdir -p "$dir"
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
mkdir -p /opt/cni/bin
mount --bind "$plugin_dir" /opt/cni/bin
cp "$conflist" /etc/cni/net.d/
network=$(sed -n 's/^  "name": "\(.*\)",$/\1/p' "$conflist")
[ -n "$network" ] || fail "no top-level name in $conflist"
ip link set lo up

step "containerd with a private root, state and socket"
cat >"$work/config.toml" <<CONF
version = 2
root = "$work/root"
state = "$work/state"
# The CRI plugin (kubelet's) is not what this test drives; ctr talks to containerd directly.
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$work/containerd.sock"
[ttrpc]
  address = "$work/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$work/opt"
CONF
containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
containerd_pid=$!
ns=sdnet-test
ctr_() { ctr --address "$work/containerd.sock" --namespace "$ns" "$@"; }
# shellcheck disable=SC2317 # (the EXIT trap)
cleanup() {
    local rc=$?
    trap - ERR
    if [ "$rc" -ne 0 ]; then
        echo "-- state at failure:"
        ctr_ task ls 2>&1 || true
        ip -br link 2>&1 || true
        tail -n 20 "$work/containerd.log" 2>&1 || true
    fi
    kill "$containerd_pid" 2>/dev/null || true
    exit "$rc"
}
trap cleanup EXIT
for _ in $(seq 300); do
    ctr_ version >/dev/null 2>&1 && break
    kill -0 "$containerd_pid" 2>/dev/null || fail "containerd exited: $(tail -n 20 "$work/containerd.log")"
    sleep 0.1
done
ctr_ version >/dev/null || fail "containerd did not answer within 30 s"

step "image: static busybox, imported from a tarball (OCI layout), no registry"
token="sdnet containerd test $cgroup $RANDOM"
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/etc"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $(busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
echo "$token" >"$rootfs/www/index.html"
oci=$work/oci
mkdir -p "$oci/blobs/sha256"
# Stores stdin as a blob; prints "DIGEST SIZE".
blob() {
    local tmp=$oci/blob.tmp digest
    cat >"$tmp"
    digest=$(sha256sum "$tmp" | cut -d' ' -f1)
    mv "$tmp" "$oci/blobs/sha256/$digest"
    echo "sha256:$digest $(stat -c %s "$oci/blobs/sha256/$digest")"
}
read -r layer layer_size < <(tar -C "$rootfs" -c . | blob)
read -r config config_size < <(printf '%s' '{"architecture":"amd64","os":"linux",
    "config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["'"$layer"'"]}}' | blob)
read -r manifest manifest_size < <(printf '%s' '{"schemaVersion":2,
    "mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json",
              "digest":"'"$config"'","size":'"$config_size"'},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar",
               "digest":"'"$layer"'","size":'"$layer_size"'}]}' | blob)
image=localhost/sdnet-bb:latest
printf '%s' '{"schemaVersion":2,"manifests":[{
    "mediaType":"application/vnd.oci.image.manifest.v1+json",
    "digest":"'"$manifest"'","size":'"$manifest_size"',
    "platform":{"architecture":"amd64","os":"linux"},
    "annotations":{"io.containerd.image.name":"'"$image"'",
                   "org.opencontainers.image.ref.name":"latest"}}]}' >"$oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
tar -C "$oci" -cf "$work/image.tar" oci-layout index.json blobs
ctr_ images import "$work/image.tar" >/dev/null
ctr_ images ls -q | grep -qx "$image" || fail "ctr images import did not make $image: $(ctr_ images ls)"

# The container's eth0 addresses as `ip -j addr` JSON, seen from the host through its netns.
task_pid() { ctr_ task ls | awk -v id="$1" '$1 == id { print $2 }'; }
container_ip() {
    nsenter -t "$(task_pid "$1")" -n ip -4 -j addr show dev eth0 |
        sed -n 's/.*"local":"\([0-9.]*\)".*/\1/p'
}
fetch_retry() {
    local url=$1 out rc
    for _ in $(seq 300); do
        out=$(timeout 5 busybox wget -q -O - "$url" 2>&1) && rc=0 || rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] && break
        sleep 0.1
    done
    echo "$out"
    return "$rc"
}

step "ctr run -d --cni (httpd)"
ctr_ run -d --cni --cgroup "/$cgroup/web" "$image" web httpd -f -p 80 -h /www >/dev/null
web_ip=$(container_ip web)
echo "web: $web_ip"
[[ $web_ip == 10.244.0.* ]] || fail "web's eth0 has no address in 10.244.0.0/24: '$web_ip'"
[ -n "$(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$cgroup")" ] ||
    fail "ctr ignored --cgroup /$cgroup/web (it would leave cgroups elsewhere)"
ip -4 -j addr show dev cni0 | grep -q '"local":"10.244.0.1"' || fail "cni0 has no gateway address"
reservation=/var/lib/cni/networks/$network/$web_ip
grep -q "$ns-web" "$reservation" || fail "host-local reservation $reservation does not name $ns-web"
ls /var/lib/cni/results | grep -q "^$network-$ns-web-eth0$" ||
    fail "libcni cached no result for $ns-web: $(ls /var/lib/cni/results)"
body=$(fetch_retry "http://$web_ip/")
[ "$body" = "$token" ] || fail "host -> http://$web_ip/: expected '$token', got '$body'"
echo "host -> web: ok"

step "ctr run --rm --cni: a second container fetches from the first"
out=$(ctr_ run --rm --cni --cgroup "/$cgroup/client" "$image" client \
    sh -c "ip -4 -o addr show dev eth0; wget -q -O - http://$web_ip/" 2>&1) ||
    fail "client container: $out"
client_ip=$(head -n1 <<<"$out" | sed 's/.* inet \([0-9.]*\)\/.*/\1/')
[[ $client_ip == 10.244.0.* ]] || fail "client had no address in 10.244.0.0/24: $out"
[ "$(tail -n +2 <<<"$out")" = "$token" ] || fail "client -> http://$web_ip/: $out"
echo "client ($client_ip) -> web: ok"
# ctr run --rm runs CNI DEL when the task ends.
[ ! -e "/var/lib/cni/networks/$network/$client_ip" ] || fail "client's reservation left after --rm"

# ctr passes no capability arguments; the CRI plugin passes kubelet's hostPort as portMappings
# and the kubernetes.io/{ingress,egress}-bandwidth annotations as bandwidth, the same
# runtimeConfig that sdnet attach -p/--ingress-rate/--egress-rate sends through this conflist.
step "the conflist's capabilities: portMappings and bandwidth, as the CRI plugin passes them"
sdnet_() { "$sdnet" --conf-dir /etc/cni/net.d --plugin-dir /opt/cni/bin "$@"; }
host_ip=198.51.100.1
ip addr add "$host_ip/32" dev lo
sdnet_ netns add pod >/dev/null
ip netns exec pod busybox httpd -f -p 80 -h "$rootfs/www" &
sdnet_ attach "$network" pod --id pod -p 8080:80 --ingress-rate 10M --egress-rate 20M >/dev/null
body=$(fetch_retry "http://$host_ip:8080/")
[ "$body" = "$token" ] || fail "hostPort 8080 -> pod:80: expected '$token', got '$body'"
echo "hostPort: ok"
qdiscs=$(tc -j qdisc show)
grep -q '"kind":"tbf"' <<<"$qdiscs" || fail "no tbf qdisc on the host side: $qdiscs"
grep -q '"ifname":"bwp' <<<"$(ip -j link show type ifb)" || fail "no ifb device for egress shaping"
echo "bandwidth: ok"
sdnet_ detach "$network" pod --id pod >/dev/null
[ "$(ip -j link show type ifb)" = "[]" ] || fail "ifb left: $(ip -j link show type ifb)"
ip netns pids pod | xargs -r kill
sdnet_ netns del pod >/dev/null

step "ctr task kill, task rm, container rm; then the DEL ctr leaves out, by sdnet"
ctr_ task kill -s SIGKILL web
for _ in $(seq 300); do
    ctr_ task ls | awk '$1 == "web" { print $3 }' | grep -q STOPPED && break
    sleep 0.1
done
ctr_ task rm web >/dev/null
ctr_ container rm web
# ctr 1.6 runs no CNI DEL for a container it started with -d (seen here: its libcni cache entry
# and its reservation outlive `ctr task rm`); under Kubernetes the CRI plugin does it when the
# pod sandbox stops. sdnet does it from libcni's cache, with the netns already gone: the cache
# layout is the same, so it finds the attachment containerd made.
[ -e "$reservation" ] || fail "web's reservation is gone without a DEL: did ctr learn to run it?"
sdnet_ detach "$network" /proc/nonexistent/ns/net --id "$ns-web"
[ "$(ip -j link show type veth)" = "[]" ] || fail "veths left: $(ip -j link show type veth)"
[ -z "$(ls -A /var/lib/cni/results)" ] || fail "libcni cache left: $(ls /var/lib/cni/results)"
for ip in "$web_ip" "$client_ip"; do
    [ ! -e "/var/lib/cni/networks/$network/$ip" ] || fail "reservation $ip left"
    if nft -j list ruleset | grep -q "\"$ip\""; then
        nft list ruleset
        fail "nftables still mentions $ip"
    fi
done
echo "no veth, cache entry, reservation or nftables element left"
step "done"
