#!/usr/bin/env bash
# podman 4.3 with its CNI backend, pointed at sdnet's plugin directory: networks made by
# `podman network create`, containers with published ports, reached from the host and from
# another container, then removed with nothing left behind.
#
#   podman_test.sh PLUGIN_DIR
#
# Exit status: 0 pass, 77 skip (no podman, or no privilege unless SDNET_REQUIRE_NETNS=1), else fail.
#
# Everything happens in private namespaces: network (podman's bridges, veths and nftables state
# live there), mount (tmpfs on /run, /var/lib/cni, /var/lib/containers over a private overlay of
# /var/lib, and the work dir) and PID (whatever the test started dies with it), so the machine's
# network and files are never touched. The one thing they cannot hide is cgroups: every
# container gets --cgroup-parent=/$cgroup, removed (with any process left in it) at the end.
set -euo pipefail

plugin_dir=${1:?usage: podman_test.sh PLUGIN_DIR}
self=$(readlink -f "$0")
# Under SDNET_NO_SKIP=1 (scripts/test) a missing tool is a failure: CI installs every one.
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
if [ "${SDNET_PODMAN_INNER:-}" != 1 ]; then
    for tool in podman runc conmon; do
        command -v "$tool" >/dev/null ||
            skip "$tool is not installed (scripts/setup installs podman and runc)"
    done
    busybox=$(command -v busybox) || skip "busybox is not installed (package busybox-static)"
    ldd "$busybox" >/dev/null 2>&1 && skip "$busybox is dynamically linked (needs busybox-static)"
    if [ "$(id -u)" -ne 0 ] || ! unshare --net --mount true 2>/dev/null; then
        [ "${SDNET_REQUIRE_NETNS:-}" = 1 ] && fail "cannot unshare net+mount namespaces (not root?)"
        skip "cannot unshare net+mount namespaces (needs root; SDNET_REQUIRE_NETNS=1 makes this fail)"
    fi
    # What `podman network create` puts in a network: a network whose plugin is missing is
    # dropped by podman with only a warning, so say clearly which one it is.
    for p in bridge host-local portmap firewall tuning; do
        [ -x "$plugin_dir/$p" ] || fail "plugin $p missing from $plugin_dir (podman needs it)"
    done

    work=$(mktemp -d /tmp/sdnet-podman.XXXXXX)
    cgroup=sdnet-podman-$$
    # All container processes (and conmon) live under /$cgroup in every hierarchy (v1, hybrid or
    # v2): kill what is left there, then remove the cgroups deepest first.
    # shellcheck disable=SC2317
    find_cgroups() {
        find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$cgroup" 2>/dev/null || true
    }
    # shellcheck disable=SC2317 # (called from the EXIT trap)
    remove_cgroups() {
        local dirs d pid
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
    }
    # shellcheck disable=SC2317
    finish() {
        local rc=$?
        remove_cgroups
        rm -rf "$work"
        if [ -n "$left" ]; then
            echo "FAIL: cgroups left behind: $left" >&2
            [ "$rc" -eq 0 ] && rc=1
        fi
        exit "$rc"
    }
    left=
    trap finish EXIT
    trap 'exit 143' TERM INT
    # The inner part is PID 1 of its own PID namespace: when it ends, however it ends, the kernel
    # kills everything it started (conmon, containers, the host web server).
    SDNET_PODMAN_INNER=1 SDNET_PODMAN_WORK=$work SDNET_PODMAN_CGROUP=$cgroup \
        unshare --net --mount --pid --fork --mount-proc --propagation private "$self" "$plugin_dir"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Inner part: private network + mount namespace.
# ---------------------------------------------------------------------------------------------
work=$SDNET_PODMAN_WORK
cgroup=$SDNET_PODMAN_CGROUP
start=$(date +%s%N)
step() { printf '== [%5.1fs] %s\n' "$((($(date +%s%N) - start) / 1000000))e-3" "$*"; }
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR

# /sys still shows the machine's network namespace: mount a fresh sysfs (so /sys/class/net is
# ours, as podman and the plugins expect) but keep the cgroup mounts below it for runc.
mount -t tmpfs tmpfs "$work"
mkdir "$work/cgroup"
mount --rbind /sys/fs/cgroup "$work/cgroup"
mount -t sysfs sysfs /sys
mount --move "$work/cgroup" /sys/fs/cgroup
# Every place podman, runc, conmon, libcni and host-local write to outside --root/--runroot:
# /run (netns files, runc and libpod state) and /var/lib/cni get a private tmpfs. /var/lib gets
# a private overlay first, so that /var/lib/containers (podman import writes its blob info
# cache there, whatever --root says) can be a mount point without creating it on the machine.
mkdir "$work/varlib" "$work/varlib/upper" "$work/varlib/work"
mount -t overlay overlay \
    -o "lowerdir=/var/lib,upperdir=$work/varlib/upper,workdir=$work/varlib/work" /var/lib
for dir in /run /var/lib/cni /var/lib/containers; do
    mkdir -p "$dir"
    mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
mkdir /run/lock
ip link set lo up

# podman reads only this containers.conf; storage and state live in the work dir.
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
# Rootful podman asks for more than this machine's hard limits allow (no CAP_SYS_RESOURCE).
[ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
mkdir "$work/net.d" "$work/tmp"
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[network]
network_backend = "cni"
cni_plugin_dirs = ["$plugin_dir"]
network_config_dir = "$work/net.d"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
runtime = "runc"
tmp_dir = "$work/tmp"
CONF
export CONTAINERS_CONF=$work/containers.conf
unset CNI_ARGS XDG_RUNTIME_DIR
pm() { podman --root "$work/root" --runroot "$work/runroot" --storage-driver overlay "$@"; }
run() { pm run --cgroup-parent "/$cgroup" "$@"; }
# podman only logs a failed CNI DEL (rm still succeeds): commands that tear down networking must
# print nothing on stderr.
pm_quiet() {
    local err
    err=$(pm "$@" 2>&1 >/dev/null) || fail "podman $*: $err"
    [ -z "$err" ] || fail "podman $* reported: $err"
}

networks=(sdnet-pm-a sdnet-pm-b sdnet-pm-c)
host_httpd=
# shellcheck disable=SC2317 # (the EXIT trap)
cleanup() {
    local rc=$?
    trap - ERR
    if [ "$rc" -ne 0 ]; then
        echo "-- state at failure:"
        pm ps -a 2>&1 || true
        ip -br link 2>&1 || true
        nft list ruleset 2>&1 || true
    fi
    pm rm -a -f -t 0 >/dev/null 2>&1 || true
    pm network rm -f "${networks[@]}" >/dev/null 2>&1 || true
    [ -z "$host_httpd" ] || kill "$host_httpd" 2>/dev/null || true
    exit "$rc"
}
trap cleanup EXIT

# A host address outside 127.0.0.0/8, as a client would use (this kernel has no dummy links),
# and a web server on it for containers to reach.
host_ip=198.51.100.1
host_ip6=2001:db8::1
ip addr add "$host_ip/32" dev lo
ip addr add "$host_ip6/128" dev lo nodad

step "image: static busybox, no registry"
token="sdnet podman test $cgroup $RANDOM"
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/etc"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for applet in $(busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
echo "$token" >"$rootfs/www/index.html"
tar -C "$rootfs" -c . | pm import -q --change 'CMD ["/bin/sh"]' - localhost/sdnet-bb:latest >/dev/null
busybox httpd -f -p "$host_ip:8090" -h "$rootfs/www" &
host_httpd=$!

step "podman network create"
pm network create --ipv6 sdnet-pm-a >/dev/null
pm network create --subnet 10.99.7.0/24 -o isolate=true sdnet-pm-b >/dev/null
pm network create --subnet 10.99.8.0/24 -o isolate=true sdnet-pm-c >/dev/null
for net in "${networks[@]}"; do
    conflist=$work/net.d/$net.conflist
    [ -f "$conflist" ] || fail "podman network create wrote no $conflist"
    types=$(grep -o '"type": *"[a-z-]*"' "$conflist" | sed 's/.*"\([a-z-]*\)"$/\1/' | tr '\n' ' ')
    echo "$net: $types"
    [ "$types" = "bridge host-local portmap firewall tuning " ] ||
        fail "unexpected plugin chain in $conflist: $types"
done
for net in sdnet-pm-b sdnet-pm-c; do
    grep -q '"ingressPolicy": "same-bridge"' "$work/net.d/$net.conflist" ||
        fail "-o isolate did not set ingressPolicy same-bridge in $net"
done
# podman drops a network whose plugins fail VERSION with only a warning: make sure all are there.
listed=$(pm network ls --format '{{.Name}}' 2>&1)
for net in "${networks[@]}"; do
    grep -qx "$net" <<<"$listed" || fail "podman network ls does not list $net: $listed"
done

# Fetches URL with busybox wget: prints the body, fails after $2 seconds. conmon itself listens
# on published host ports, so without DNAT a client connects to conmon and hangs: the timeout
# is what turns that into a failure. `wget -T` segfaults in Debian's static busybox 1.35.
fetch() {
    local url=$1 secs=${2:-5}
    timeout "$secs" busybox wget -q -O - "$url" 2>&1
}
# Like fetch, but retries a refused connection (the server may not be listening yet); a timeout
# is final.
fetch_retry() {
    local url=$1 out rc
    for _ in $(seq 20); do
        out=$(fetch "$url") && rc=0 || rc=$?
        if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
            break
        fi
        sleep 0.1
    done
    echo "$out"
    return "$rc"
}
expect_body() {
    local what=$1 got=$2
    [ "$got" = "$token" ] || fail "$what: expected '$token', got '$got'"
    echo "$what: ok"
}
# Shell code a container runs to print its eth0 IPv4 address.
own_ip='ip -4 -o addr show dev eth0 | sed "s/.* inet \\([0-9.]*\\).*/\\1/"'
inspect_ip() { pm inspect --format "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }

step "podman run -d -p 8080:80 (httpd on sdnet-pm-a)"
run -d --name web --network sdnet-pm-a -p 8080:80 localhost/sdnet-bb \
    httpd -f -p 80 -h /www >/dev/null
web_id=$(pm inspect --format '{{.Id}}' web)
web_ip=$(inspect_ip web sdnet-pm-a)
web_ip6=$(pm inspect --format '{{(index .NetworkSettings.Networks "sdnet-pm-a").GlobalIPv6Address}}' web)
web_mac=$(pm inspect --format '{{(index .NetworkSettings.Networks "sdnet-pm-a").MacAddress}}' web)
echo "web: $web_ip $web_ip6 $web_mac"
[[ $web_ip =~ ^10\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "podman inspect shows no IPv4 address: '$web_ip'"
[[ $web_mac =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || fail "podman inspect shows no MAC: '$web_mac'"
[[ $web_ip6 == fd*:* ]] || fail "podman inspect shows no IPv6 address: '$web_ip6'"
inside=$(pm exec web sh -c "ip -o addr show dev eth0; ip -o link show dev eth0")
grep -q " inet $web_ip/" <<<"$inside" || fail "web's eth0 does not have $web_ip: $inside"
grep -q " inet6 $web_ip6/" <<<"$inside" || fail "web's eth0 does not have $web_ip6: $inside"
grep -q " link/ether $web_mac " <<<"$inside" || fail "web's eth0 does not have MAC $web_mac: $inside"
[ -n "$(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "$cgroup")" ] ||
    fail "podman ignored --cgroup-parent=/$cgroup (it would leave cgroups elsewhere)"

step "published port from the host"
expect_body "http://$host_ip:8080/" "$(fetch_retry "http://$host_ip:8080/")"
expect_body "http://127.0.0.1:8080/" "$(fetch "http://127.0.0.1:8080/")"
expect_body "http://$web_ip:80/ (direct)" "$(fetch "http://$web_ip:80/")"
expect_body "http://[$host_ip6]:8080/" "$(fetch "http://[$host_ip6]:8080/")"
expect_body "http://[$web_ip6]:80/ (direct)" "$(fetch "http://[$web_ip6]:80/")"

# reload is DEL then ADD with CNI_ARGS IP=<old>;MAC=<old>: the container keeps both.
step "podman network reload web"
pm_quiet network reload web
[ "$(inspect_ip web sdnet-pm-a)" = "$web_ip" ] || fail "reload changed the IP: $(inspect_ip web sdnet-pm-a)"
inside=$(pm exec web ip -o link show dev eth0)
grep -q " link/ether $web_mac " <<<"$inside" || fail "reload changed the MAC: $inside"
expect_body "http://127.0.0.1:8080/ (after reload)" "$(fetch_retry "http://127.0.0.1:8080/")"

step "a second container fetches from the first by its IP"
# It prints its own address first: once it has exited, podman inspect no longer shows one.
out=$(run --name client --network sdnet-pm-a localhost/sdnet-bb sh -c "$own_ip
    timeout 5 wget -q -O - http://$web_ip/" 2>&1) || fail "client container: $out"
client_ip=$(head -n1 <<<"$out")
expect_body "client ($client_ip) -> http://$web_ip/" "$(tail -n +2 <<<"$out")"
client_id=$(pm inspect --format '{{.Id}}' client)

step "two networks made with --subnet and -o isolate=true"
run -d --name web-b --network sdnet-pm-b -p 8081:80 localhost/sdnet-bb \
    httpd -f -p 80 -h /www >/dev/null
web_b_ip=$(inspect_ip web-b sdnet-pm-b)
web_b_id=$(pm inspect --format '{{.Id}}' web-b)
[[ $web_b_ip == 10.99.7.* ]] || fail "web-b: address '$web_b_ip' is not in 10.99.7.0/24"
expect_body "http://127.0.0.1:8081/ -> web-b" "$(fetch_retry "http://127.0.0.1:8081/")"
# From sdnet-pm-c (isolated too): the host is reachable, web-b on sdnet-pm-b is not.
out=$(run --name client-c --network sdnet-pm-c localhost/sdnet-bb sh -c "$own_ip
    timeout 5 wget -q -O - http://$host_ip:8090/ || echo HOST-UNREACHABLE
    timeout 2 wget -q -O - http://$web_b_ip/ 2>/dev/null && echo ISOLATION-BROKEN || echo blocked" 2>&1)
client_c_ip=$(head -n1 <<<"$out")
client_c_id=$(pm inspect --format '{{.Id}}' client-c)
[[ $client_c_ip == 10.99.8.* ]] || fail "client-c: address '$client_c_ip' is not in 10.99.8.0/24"
[ "$(tail -n +2 <<<"$out")" = "$token"$'\n'"blocked" ] ||
    fail "client-c: expected its address, the host's page, then 'blocked', got: $out"
echo "client-c -> host: ok; client-c -> web-b ($web_b_ip): blocked"

# podman sends a container's port mappings to the portmap of every network it joins: the same
# container publishing its port through a second network is not a conflict (the reference keeps
# both rules, the first one wins), and leaving that network must not unpublish the port.
step "podman network connect, then disconnect (web, with -p 8080:80, joins sdnet-pm-c)"
pm network connect sdnet-pm-c web
web_c_ip=$(inspect_ip web sdnet-pm-c)
[[ $web_c_ip == 10.99.8.* ]] || fail "web on sdnet-pm-c: address '$web_c_ip' is not in 10.99.8.0/24"
inside=$(pm exec web sh -c "ip -o -4 addr show dev eth1; ip -4 route show default")
grep -q " inet $web_c_ip/" <<<"$inside" || fail "web's eth1 does not have $web_c_ip: $inside"
grep -q "default via 10.99.8.1 dev eth1" <<<"$inside" || fail "no default route via eth1: $inside"
expect_body "http://127.0.0.1:8080/ (web on two networks)" "$(fetch "http://127.0.0.1:8080/")"
pm_quiet network disconnect sdnet-pm-c web
inside=$(pm exec web ip -o link)
! grep -q " eth1[@:]" <<<"$inside" || fail "eth1 still in web after disconnect: $inside"
[ ! -e "/var/lib/cni/networks/sdnet-pm-c/$web_c_ip" ] || fail "reservation $web_c_ip left"
expect_body "http://127.0.0.1:8080/ (after disconnect)" "$(fetch "http://127.0.0.1:8080/")"

step "podman rm -f -t 0"
pm_quiet rm -f -t 0 web client web-b client-c
[ -z "$(pm ps -a -q)" ] || fail "containers left: $(pm ps -a)"
veths=$(ip -j link show type veth)
[ "$veths" = "[]" ] || fail "veths left: $veths"
[ -z "$(ls -A /run/netns)" ] || fail "netns files left: $(ls /run/netns)"
[ -z "$(ls -A /var/lib/cni/results)" ] || fail "libcni cache left: $(ls /var/lib/cni/results)"
ruleset=$(nft -j list ruleset)
for ip in "$web_ip" "$web_ip6" "$web_c_ip" "$client_ip" "$web_b_ip" "$client_c_ip"; do
    for net in "${networks[@]}"; do
        [ ! -e "/var/lib/cni/networks/$net/$ip" ] || fail "host-local reservation left: $net/$ip"
    done
    if grep -q "\"$ip\"" <<<"$ruleset"; then
        nft list ruleset
        fail "nftables still mentions $ip"
    fi
done
for id in "$web_id" "$client_id" "$web_b_id" "$client_c_id"; do
    if grep -rlq "$id" /var/lib/cni; then
        fail "container $id still named in: $(grep -rl "$id" /var/lib/cni)"
    fi
    if grep -q "$id" <<<"$ruleset"; then
        nft list ruleset
        fail "nftables still mentions container $id"
    fi
done
echo "no container, veth, netns file, cache file, reservation or nftables element left"

step "podman network rm"
pm_quiet network rm "${networks[@]}"
conflists=$(find "$work/net.d" -name '*.conflist')
[ -z "$conflists" ] || fail "conflists left: $conflists"
bridges=$(ip -j link show type bridge)
[ "$bridges" = "[]" ] || fail "bridges left: $bridges"
echo "nftables tables left (expected: empty chains, sets and per-subnet maps):"
nft list tables
step "done"
