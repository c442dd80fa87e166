// cnicache: the real libcni (github.com/containernetworking/cni/libcni, Debian's
// golang-github-appc-cni-dev) driving CNI plugins and its result cache, so that
// libcni_compat_test.sh can check that sdnet's cache entries and libcni's are interchangeable.
// Test-only; it only calls libcni's public API.
//
//	cnicache add|get|del -plugin-dir DIR -cache-dir DIR -conflist FILE -netns PATH -id ID
//	         [-ifname eth0] [-cni-args K=V;K2=V2] [-caps JSON]
//
// add: AddNetworkList; prints the result.
// get: GetNetworkListCachedResult and GetNetworkListCachedConfig; prints
//
//	{"result": ..., "config": "<cached conflist>", "cniArgs": [...], "capabilityArgs": {...}}
//
// (result and config null when there is no cache entry).
// del: as podman's CNI backend tears down: the network list and runtime arguments saved in the
// cache (the conflist file only when there is no entry), then DelNetworkList; prints
// {"cachedConfig": true|false}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

type options struct {
	pluginDir, cacheDir, conflist, netns, id, ifname, cniArgs, caps string
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("cnicache", flag.ContinueOnError)
	fs.StringVar(&o.pluginDir, "plugin-dir", "", "CNI plugin directory")
	fs.StringVar(&o.cacheDir, "cache-dir", libcni.CacheDir, "libcni cache directory")
	fs.StringVar(&o.conflist, "conflist", "", "network configuration list file")
	fs.StringVar(&o.netns, "netns", "", "network namespace path")
	fs.StringVar(&o.id, "id", "", "container id")
	fs.StringVar(&o.ifname, "ifname", "eth0", "interface name")
	fs.StringVar(&o.cniArgs, "cni-args", "", "CNI_ARGS, K=V;K2=V2")
	fs.StringVar(&o.caps, "caps", "", "capability args, a JSON object")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.pluginDir == "" || o.conflist == "" || o.id == "" {
		return o, fmt.Errorf("-plugin-dir, -conflist and -id are required")
	}
	return o, nil
}

func runtimeConf(o options) (*libcni.RuntimeConf, error) {
	rt := &libcni.RuntimeConf{ContainerID: o.id, NetNS: o.netns, IfName: o.ifname}
	for _, kv := range strings.Split(o.cniArgs, ";") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("invalid -cni-args element %q", kv)
		}
		rt.Args = append(rt.Args, [2]string{k, v})
	}
	if o.caps != "" {
		if err := json.Unmarshal([]byte(o.caps), &rt.CapabilityArgs); err != nil {
			return nil, fmt.Errorf("-caps: %w", err)
		}
	}
	return rt, nil
}

type netList = libcni.NetworkConfigList

func get(cni *libcni.CNIConfig, list *netList, rt *libcni.RuntimeConf) (interface{}, error) {
	result, err := cni.GetNetworkListCachedResult(list, rt)
	if err != nil {
		return nil, err
	}
	config, cachedRt, err := cni.GetNetworkListCachedConfig(list, rt)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{"result": result, "config": nil}
	if config != nil {
		out["config"] = string(config)
		out["cniArgs"] = cachedRt.Args
		out["capabilityArgs"] = cachedRt.CapabilityArgs
	}
	return out, nil
}

// del mirrors podman 4's cniNetwork.teardown: the cached config list and runtime arguments win.
func del(ctx context.Context, cni *libcni.CNIConfig, list *netList,
	rt *libcni.RuntimeConf) (interface{}, error) {
	config, cachedRt, err := cni.GetNetworkListCachedConfig(list, rt)
	if err != nil {
		return nil, err
	}
	if config != nil {
		if list, err = libcni.ConfListFromBytes(config); err != nil {
			return nil, fmt.Errorf("cached config: %w", err)
		}
		rt = cachedRt
	}
	if err := cni.DelNetworkList(ctx, list, rt); err != nil {
		return nil, err
	}
	return map[string]bool{"cachedConfig": config != nil}, nil
}

func run(args []string) (interface{}, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("usage: cnicache add|get|del OPTIONS")
	}
	o, err := parseOptions(args[1:])
	if err != nil {
		return nil, err
	}
	rt, err := runtimeConf(o)
	if err != nil {
		return nil, err
	}
	list, err := libcni.ConfListFromFile(o.conflist)
	if err != nil {
		return nil, err
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{o.pluginDir}, o.cacheDir, nil)
	ctx := context.Background()
	switch args[0] {
	case "add":
		return cni.AddNetworkList(ctx, list, rt)
	case "get":
		return get(cni, list, rt)
	case "del":
		return del(ctx, cni, list, rt)
	}
	return nil, fmt.Errorf("unknown command %q (add, get or del)", args[0])
}

func main() {
	out, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cnicache:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "cnicache:", err)
		os.Exit(1)
	}
}
