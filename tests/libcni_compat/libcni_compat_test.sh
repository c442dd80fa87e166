#!/usr/bin/env bash
# The result cache against the real libcni (Debian's golang-github-appc-cni-dev, the one podman
# and containerd build with), through cnicache.go, a tiny Go program that only calls libcni:
#   a) `sdnet attach`, then libcni reads the entry (GetNetworkListCachedResult/Config) and finds
#      sdnet's result, config, CNI_ARGS and capability args; libcni's DelNetworkList with what the
#      entry holds (as podman tears down) leaves nothing behind;
#   b) libcni's AddNetworkList, then `sdnet ps` and `sdnet show` list the attachment and
#      `sdnet detach` (with the conflist file gone, so only the entry can tell it the chain and
#      the port mappings) leaves nothing behind;
#   c) the same attachment made by each: every field libcni writes matches ours.
#
#   libcni_compat_test.sh SDNET_EXE PLUGIN_DIR CONFLIST TOOL_DIR
#
# TOOL_DIR is where cnicache is built (with its Go build cache, so a rerun does not rebuild).
# Fails (never skips) without go, libcni's source or root: scripts/setup installs the packages.
# Everything runs in private network, mount and PID namespaces: /run and /var/lib/cni are
# private tmpfs, so the machine's network, netns names, leases and cache are never touched.
set -euo pipefail

sdnet=${1:?usage: libcni_compat_test.sh SDNET_EXE PLUGIN_DIR CONFLIST TOOL_DIR}
plugin_dir=${2:?missing PLUGIN_DIR}
conflist=${3:?missing CONFLIST}
tool_dir=${4:?missing TOOL_DIR}
self=$(readlink -f "$0")
gopath=/usr/share/gocode
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Outer part: build cnicache offline (GOPATH mode over Debian's Go sources), then the inner part.
# ---------------------------------------------------------------------------------------------
if [ "${SDNET_LIBCNI_INNER:-}" != 1 ]; then
    command -v go >/dev/null || fail "go is not installed (scripts/setup installs golang-go)"
    [ -d "$gopath/src/github.com/containernetworking/cni/libcni" ] ||
        fail "libcni's source is not in $gopath (scripts/setup installs golang-github-appc-cni-dev)"
    if [ "$(id -u)" -ne 0 ] || ! unshare --net --mount true 2>/dev/null; then
        fail "cannot unshare net+mount namespaces (needs root)"
    fi
    mkdir -p "$tool_dir"
    GO111MODULE=off GOPATH=$gopath GOPROXY=off GOFLAGS='' GOCACHE=$tool_dir/go-build \
        go build -o "$tool_dir/cnicache" "$(dirname "$self")/cnicache.go" ||
        fail "cannot build cnicache against $gopath"
    work=$(mktemp -d /tmp/sdnet-libcni.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    SDNET_LIBCNI_INNER=1 SDNET_LIBCNI_WORK=$work \
        unshare --net --mount --pid --fork --mount-proc --propagation private \
        "$self" "$@"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Inner part: private network, mount and PID namespaces.
# ---------------------------------------------------------------------------------------------
work=$SDNET_LIBCNI_WORK
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
mount -t tmpfs tmpfs "$work"
mount -t sysfs sysfs /sys # /sys/class/net of this netns, as the plugins expect
mount -t tmpfs -o mode=0755 tmpfs /run
if [ -d /var/lib/cni ]; then
    mount -t tmpfs -o mode=0755 tmpfs /var/lib/cni
else # cannot create it on the machine: hide /var/lib instead (nothing here needs it)
    mount -t tmpfs -o mode=0755 tmpfs /var/lib
    mkdir /var/lib/cni
fi
mkdir "$work/net.d"
cp "$conflist" "$work/net.d/"
net=$(jq -r .name "$conflist")
cache=/var/lib/cni
leases=/var/lib/cni/networks/$net

sd() { "$sdnet" --conf-dir "$work/net.d" --plugin-dir "$plugin_dir" --cache-dir "$cache" "$@"; }
# cnicache COMMAND NETNS ID [more options]: libcni on the conflist file.
cnicache() {
    local cmd=$1 netns=$2 id=$3
    shift 3
    "$tool_dir/cnicache" "$cmd" -plugin-dir "$plugin_dir" -cache-dir "$cache" \
        -conflist "$work/net.d/$(basename "$conflist")" -netns "/run/netns/$netns" -id "$id" "$@"
}
# expect_equal WHAT GOT WANT: the two JSON documents are equal (keys sorted, nulls kept).
expect_equal() {
    local diff
    diff=$(diff -u <(jq -S . <<<"$3") <(jq -S . <<<"$2")) || fail "$1 differs (-want +got): $diff"
    echo "$1: equal"
}
veths() { ip -j link show type veth | jq -c '[.[].ifname]'; }
# Ports that appear anywhere in the nftables ruleset (portmap's DNAT rules).
nft_has_port() {
    nft -j list ruleset | jq -e --argjson p "$1" '[.. | numbers | select(. == $p)] != []' >/dev/null
}
# host-local's reservation files: one per leased address.
leased_ips() {
    find "$leases" -maxdepth 1 -type f ! -name 'last_reserved_ip.*' ! -name lock -printf '%f\n' |
        sort
}

# The state an attachment leaves: a host veth, the netns's eth0, leases for its addresses, a
# cache file and the port's DNAT rule. Checked before teardown, so the after-checks can fail.
expect_attached() {
    local netns=$1 id=$2 port=$3 result=$4
    [ "$(veths)" != "[]" ] || fail "$id: no veth on the host"
    ip -n "$netns" -j link show dev eth0 >/dev/null || fail "$id: no eth0 in $netns"
    [ "$(leased_ips)" = "$(jq -r '.ips[].address | split("/")[0]' <<<"$result" | sort)" ] ||
        fail "$id: leases $(leased_ips) are not the result's addresses"
    [ -f "$cache/results/$net-$id-eth0" ] || fail "$id: no cache file"
    nft_has_port "$port" || fail "$id: no nftables rule for port $port"
}
expect_torn_down() {
    local netns=$1 id=$2 port=$3
    [ "$(veths)" = "[]" ] || fail "$id: veths left on the host: $(veths)"
    ! ip -n "$netns" link show dev eth0 >/dev/null 2>&1 || fail "$id: eth0 left in $netns"
    [ -z "$(leased_ips)" ] || fail "$id: leases left: $(leased_ips)"
    [ ! -e "$cache/results/$net-$id-eth0" ] || fail "$id: cache file left"
    ! nft_has_port "$port" || fail "$id: nftables rule for port $port left"
    echo "$id: torn down"
}
# The portMappings capability sdnet's `-p HOSTPORT:80/tcp` passes.
ports() {
    jq -cn --argjson h "$1" '{portMappings: [{hostPort: $h, containerPort: 80, protocol: "tcp"}]}'
}

echo "== a) sdnet attach; libcni reads the entry and deletes with it"
sd netns add a >/dev/null
cni_args='IgnoreUnknown=1;K8S_POD_NAME=web-a'
added=$(sd attach "$net" a --id sdnet-a -p 8080:80/tcp --cni-args "$cni_args" --json)
expect_attached a sdnet-a 8080 "$added"
got=$(cnicache get a sdnet-a)
pick='{interfaces, ips, routes}'
expect_equal "libcni's cached result" "$(jq ".result | $pick" <<<"$got")" \
    "$(jq "$pick" <<<"$added")"
cmp <(jq -j .config <<<"$got") "$conflist" || fail "libcni's cached config is not $conflist"
echo "libcni's cached config: equal byte for byte"
expect_equal "libcni's cached CNI_ARGS" "$(jq .cniArgs <<<"$got")" \
    '[["IgnoreUnknown","1"],["K8S_POD_NAME","web-a"]]'
expect_equal "libcni's cached capability args" "$(jq .capabilityArgs <<<"$got")" "$(ports 8080)"
expect_equal "libcni DelNetworkList" "$(cnicache del a sdnet-a)" '{"cachedConfig": true}'
expect_torn_down a sdnet-a 8080

echo "== b) libcni AddNetworkList; sdnet lists it and detaches it from the entry alone"
sd netns add b >/dev/null
added=$(cnicache add b libcni-b -caps "$(ports 8081)")
expect_attached b libcni-b 8081 "$added"
listed=$(sd ps --json | jq -c '[.[] | select(.containerId == "libcni-b")]')
# libcni 1.1 records no netns: sdnet must find it (the result's sandbox) to call the
# attachment live, and gc must keep it.
expect_equal "sdnet ps" "$(jq '[.[] | {network, ifName, ips, netns, netnsExists}]' <<<"$listed")" \
    "$(jq --arg n "$net" '[{network: $n, ifName: "eth0", ips: [.ips[].address],
                            netns: "/run/netns/b", netnsExists: true}]' <<<"$added")"
expect_equal "sdnet gc --dry-run" "$(sd gc "$net" --dry-run --json | jq -c .deleted)" '[]'
shown=$(sd show "$net")
for want in libcni-b $(jq -r '.ips[].address' <<<"$added") "8081 -> 80/tcp"; do
    grep -qF -- "$want" <<<"$shown" || fail "sdnet show does not list $want: $shown"
done
echo "sdnet show: lists libcni-b"
rm "$work/net.d/$(basename "$conflist")"
sd detach "$net" b --id libcni-b >/dev/null
expect_torn_down b libcni-b 8081
cp "$conflist" "$work/net.d/"

echo "== c) the same attachment cached by sdnet and by libcni"
sd netns add c >/dev/null
same_args='IgnoreUnknown=1;IP=10.88.10.77,fd88:10::77;MAC=02:00:00:00:00:77'
sd attach "$net" c --id same -p 8082:80/tcp --cni-args "$same_args" >/dev/null
ours=$(cat "$cache/results/$net-same-eth0")
sd detach "$net" c --id same >/dev/null
cnicache add c same -cni-args "$same_args" -caps "$(ports 8082)" >/dev/null
theirs=$(cat "$cache/results/$net-same-eth0")
cnicache del c same >/dev/null
expect_torn_down c same 8082
for field in kind containerId config ifName networkName cniArgs capabilityArgs; do
    expect_equal "cache field $field" "$(jq ".$field" <<<"$ours")" "$(jq ".$field" <<<"$theirs")"
done
# The host veth's name and MAC are random; everything else must match.
stable='.result | .interfaces[1] |= del(.name, .mac)'
expect_equal "cache field result" "$(jq "$stable" <<<"$ours")" "$(jq "$stable" <<<"$theirs")"
# Byte for byte too, but for netns (libcni writes it from 1.2, where we do) and the veth.
bytes_of() {
    local veth mac text=${1/,\"netns\":\"\/run\/netns\/c\"/}
    veth=$(jq -r '.result.interfaces[1].name' <<<"$1")
    mac=$(jq -r '.result.interfaces[1].mac' <<<"$1")
    text=${text//\"$veth\"/\"VETH\"}
    printf '%s' "${text//\"$mac\"/\"VETH-MAC\"}"
}
[ "$(bytes_of "$ours")" = "$(bytes_of "$theirs")" ] ||
    fail "cache files differ: ours $(bytes_of "$ours"), libcni's $(bytes_of "$theirs")"
echo "cache files: equal byte for byte"
echo "PASS"
