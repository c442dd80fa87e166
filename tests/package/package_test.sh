#!/usr/bin/env bash
# The .deb as a user gets it: cpack builds it from this build tree, dpkg -x unpacks it into a
# throw-away root, and everything is run from there: every plugin's --version and CNI VERSION,
# sdnet --version, the man pages, the bash completion, and one bridge ADD/DEL (through the
# packaged sdnet and plugins) in a private network namespace.
#
#   package_test.sh BUILD_DIR
#
# Exit status: 0 pass, 77 skip (no dpkg/cpack, or no privilege unless SDNET_REQUIRE_NETNS=1),
# else fail. The ADD/DEL runs in private network + mount namespaces (tmpfs on /run); nothing
# outside the temporary directory is written.
set -euo pipefail

build=$(readlink -f "${1:?usage: package_test.sh BUILD_DIR}")
self=$(readlink -f "$0")
plugins=(bandwidth bridge firewall host-local loopback portmap tuning)
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
# Inner part (private network + mount namespaces): one ADD/DEL of bridge with the packaged files.
# ---------------------------------------------------------------------------------------------
if [ "${SDNET_PACKAGE_INNER:-}" = 1 ]; then
    root=$SDNET_PACKAGE_ROOT
    work=$SDNET_PACKAGE_WORK
    trap 'echo "FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
    mount -t tmpfs -o mode=0755 tmpfs /run
    ip link set lo up
    mkdir "$work/net.d"
    cat >"$work/net.d/10-pkg.conflist" <<CONF
{"cniVersion": "1.0.0", "name": "pkgnet", "plugins": [
  {"type": "bridge", "bridge": "pkgbr0", "isGateway": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.77.0.0/24"}]],
            "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
CONF
    sdnet() {
        "$root/usr/bin/sdnet" --conf-dir "$work/net.d" --plugin-dir "$root/opt/cni/bin" \
            --cache-dir "$work/cache" "$@"
    }
    sdnet netns add pkg >/dev/null
    sdnet attach pkgnet pkg -p 8080:80
    addr=$(ip -n pkg -j addr show dev eth0)
    grep -q '"local":"10.77.0.2"' <<<"$addr" || fail "eth0 in the netns has no 10.77.0.2: $addr"
    ip -j link show pkgbr0 | grep -q '"ifname":"pkgbr0"' || fail "no bridge pkgbr0"
    [ -e "$work/ipam/pkgnet/10.77.0.2" ] || fail "no host-local reservation for 10.77.0.2"
    sdnet ps | grep -q 'pkgnet' || fail "sdnet ps does not list the attachment: $(sdnet ps)"
    sdnet detach pkgnet pkg
    [ "$(ip -j link show type veth)" = "[]" ] || fail "veth left: $(ip -j link show type veth)"
    [ ! -e "$work/ipam/pkgnet/10.77.0.2" ] || fail "reservation 10.77.0.2 left after DEL"
    ip -n pkg -j addr show dev eth0 >/dev/null 2>&1 && fail "eth0 still in the netns after DEL"
    sdnet netns del pkg
    echo "bridge ADD/DEL from the package: ok"
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Outer part: build and unpack the package, check what a user runs by hand.
# ---------------------------------------------------------------------------------------------
for tool in cpack dpkg-deb dpkg man; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
done
work=$(mktemp -d /tmp/sdnet-package.XXXXXX)
trap 'rm -rf "$work"' EXIT

# cpack runs the install rules of this build tree: it packages what was built, builds nothing.
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
    fail "cpack failed: $(cat "$work/cpack.log")"
debs=("$work"/cpack/sdnet_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "cpack made no single sdnet_*.deb: $(ls "$work/cpack")"
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
echo "package: ${deb##*/}, version $version"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "package version '$version' is not X.Y.Z..."
root=$work/root
dpkg -x "$deb" "$root"

expected=(
    /usr/bin/sdnet
    /usr/share/man/man8/sdnet.8 /usr/share/man/man8/sdnet-plugins.8 /usr/share/man/man8/sdrun.8
    /usr/share/bash-completion/completions/sdnet /usr/share/bash-completion/completions/sdrun
    /usr/share/doc/sdnet/examples/10-sdnet-bridge.conflist
    /usr/share/doc/sdnet/examples/containerd/10-sdnet.conflist
    /usr/share/doc/sdnet/examples/containerd/config.toml
)
for p in "${plugins[@]}"; do expected+=("/opt/cni/bin/$p"); done
for f in "${expected[@]}"; do
    [ -e "$root$f" ] || fail "$f is not in the package: $(dpkg-deb -c "$deb")"
done
[ -z "$(ls -A "$root/usr/lib/cni" 2>/dev/null)" ] ||
    fail "the package puts files in /usr/lib/cni (containernetworking-plugins owns those)"

for p in "${plugins[@]}"; do
    out=$(env -u CNI_COMMAND "$root/opt/cni/bin/$p" --version 2>/dev/null)
    [ "$(head -n1 <<<"$out")" = "CNI plugin $p version $version (sdnet)" ] ||
        fail "$p --version printed: $out"
    out=$(CNI_COMMAND=VERSION "$root/opt/cni/bin/$p" </dev/null)
    grep -q '"supportedVersions":\[.*"1.1.0"' <<<"$out" || fail "$p VERSION printed: $out"
done
echo "plugins: --version and VERSION: ok"
out=$("$root/usr/bin/sdnet" --version)
[ "$out" = "sdnet $version" ] || fail "sdnet --version printed '$out', package is $version"
# sdrun is packaged when the build has it (runtime/sdrun).
if [ -e "$build/runtime/sdrun/sdrun" ]; then
    out=$("$root/usr/bin/sdrun" --version) || fail "sdrun is built but not in the package"
    [ "$out" = "sdrun $version" ] || fail "sdrun --version printed '$out', package is $version"
fi

for page in sdnet sdnet-plugins sdrun; do
    err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/usr/share/man/man8/$page.8" 2>&1 >"$work/$page.txt")
    [ -z "$err" ] || fail "man $page: $err"
    grep -q "^NAME" "$work/$page.txt" || fail "man $page renders no NAME section"
done
for key in ingressPolicy portMappings ingressRate isGateway sysctl ranges; do
    grep -q "$key" "$work/sdnet-plugins.txt" || fail "sdnet-plugins(8) does not describe $key"
done
# sdrun(8) names every option `sdrun run --help` lists.
if [ -e "$build/runtime/sdrun/sdrun" ]; then
    for opt in $("$build/runtime/sdrun/sdrun" run --help | grep -o '^ *\(-[a-z], \)\?--[a-z-]*' |
                 grep -o -- '--[a-z-]*'); do
        grep -q -- "${opt//-/.}" "$work/sdrun.txt" || fail "sdrun(8) does not describe $opt"
    done
fi
echo "man pages: ok"

# Completion as bash runs it: COMP_WORDS/COMP_CWORD set, _sdnet called, COMPREPLY read.
complete_words() {
    PATH="$root/usr/bin:$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sdnet; printf "%s\n" "${COMPREPLY[@]}"
    ' _ "$root/usr/share/bash-completion/completions/sdnet" "$@"
}
got=$(complete_words sdnet a | tr '\n' ' ')
[ "$got" = "attach " ] || fail "completion of 'sdnet a': '$got'"
got=$(complete_words sdnet --conf-dir "$root/usr/share/doc/sdnet/examples" attach "" | tr '\n' ' ')
want="lo sdnet-bridge sdnet-macvlan sdnet-ipvlan sdnet-vlan sdnet-tap "
[ "$got" = "$want" ] || fail "completion of networks in the examples: '$got', not '$want'"
got=$(complete_words sdnet attach --e | tr '\n' ' ')
[ "$got" = "--egress-rate --egress-burst " ] || fail "completion of 'sdnet attach --e': '$got'"
complete_sdrun() {
    PATH="$root/usr/bin:$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sdrun; printf "%s\n" "${COMPREPLY[@]}"
    ' _ "$root/usr/share/bash-completion/completions/sdrun" "$@"
}
got=$(complete_sdrun sdrun image i | tr '\n' ' ')
[ "$got" = "import inspect " ] || fail "completion of 'sdrun image i': '$got'"
got=$(complete_sdrun sdrun run --cpu | tr '\n' ' ')
[ "$got" = "--cpus --cpu-shares --cpuset-cpus --cpuset-mems " ] ||
    fail "completion of 'sdrun run --cpu': '$got'"
# Image names from the store --root names: one imported image.
store=$work/sdrun-store
mkdir -p "$store"
mkdir -p "$work/tiny/etc" && echo tiny >"$work/tiny/etc/hostname"
tar -C "$work/tiny" -cf "$work/tiny.tar" .
"$root/usr/bin/sdrun" --root "$store" image import tiny "$work/tiny.tar" >/dev/null ||
    fail "sdrun image import of a one-file rootfs failed"
got=$(complete_sdrun sdrun --root "$store" run "" | tr '\n' ' ')
[ "$got" = "tiny " ] || fail "completion of images in 'sdrun --root S run': '$got'"
echo "bash completion: ok"

if [ "$(id -u)" -ne 0 ] || ! unshare --net --mount true 2>/dev/null; then
    [ "${SDNET_REQUIRE_NETNS:-}" = 1 ] && fail "cannot unshare net+mount namespaces (not root?)"
    skip "cannot unshare net+mount namespaces (needs root; SDNET_REQUIRE_NETNS=1 makes this fail)"
fi
SDNET_PACKAGE_INNER=1 SDNET_PACKAGE_ROOT=$root SDNET_PACKAGE_WORK=$work \
    unshare --net --mount --propagation private "$self" "$build"
