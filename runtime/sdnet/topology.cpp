#include "runtime/sdnet/topology.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "netlib/addr.hpp"
#include "netlib/link.hpp"
#include "netlib/netns.hpp"
#include "netlib/route_socket.hpp"
#include "runtime/libcni/attachment_id.hpp"
#include "runtime/libcni/conf.hpp"
#include "runtime/libcni/error.hpp"

namespace sdnet {
namespace {

bool link_local(const netlib::IpNet& a) {
    static const auto kLinkLocal = netlib::IpNet::parse("fe80::/10");
    return a.family() == netlib::Family::V6 && kLinkLocal.contains(a.addr());
}

LinkView view_of(netlib::RouteSocket& sock, const netlib::LinkInfo& l) {
    LinkView v{l.name, l.index, l.kind,   l.mac.is_zero() ? "" : l.mac.to_string(),
               l.mtu,  l.up,    l.master, {}};
    for (const auto& a : netlib::list_addresses(sock, l.index)) {
        if (!link_local(a)) {
            v.addresses.push_back(a.to_string());
        }
    }
    return v;
}

// Links of one namespace, by index.
class LinkTable {
public:
    explicit LinkTable(netlib::RouteSocket& sock) : sock_(sock) {
        for (const auto& l : netlib::list_links(sock)) {
            by_index_.emplace(l.index, l);
        }
    }

    std::optional<netlib::LinkInfo> find(int index) const {
        auto it = by_index_.find(index);
        return it == by_index_.end() ? std::nullopt : std::optional{it->second};
    }

    std::optional<netlib::LinkInfo> find(const std::string& name) const {
        for (const auto& [index, l] : by_index_) {
            if (l.name == name) {
                return l;
            }
        }
        return std::nullopt;
    }

    LinkView view(const netlib::LinkInfo& l) const { return view_of(sock_, l); }

private:
    netlib::RouteSocket& sock_;
    std::map<int, netlib::LinkInfo> by_index_;
};

// Reads the attachment's interface inside its netns; its IFLA_LINK is the host end's index.
void read_netns(AttachmentView& a, const LinkTable& host) {
    auto ns = netlib::Netns::try_open(a.entry.netns);
    if (!ns) {
        return;
    }
    a.netns_exists = true;
    auto sock = netlib::RouteSocket::open_in(*ns);
    auto link = netlib::find_link(sock, a.entry.ifname);
    if (!link) {
        a.problem = a.entry.ifname + " not found in " + a.entry.netns;
        return;
    }
    a.container_link = view_of(sock, *link);
    if (auto peer = host.find(link->peer_index); peer && peer->kind == "veth") {
        a.host_link = host.view(*peer);
    }
}

std::vector<std::string> bridge_names(const libcni::NetworkList* list,
                                      const std::vector<AttachmentView>& attachments,
                                      const LinkTable& host) {
    std::set<std::string> names;
    if (list != nullptr) {
        for (const auto& p : list->plugins) {
            if (auto it = p.conf.find("bridge"); p.type == "bridge") {
                // The reference bridge plugin's default name.
                names.insert(it != p.conf.end() && it->is_string() ? it->get<std::string>()
                                                                   : "cni0");
            }
        }
    }
    for (const auto& a : attachments) {
        if (a.host_link && a.host_link->master != 0) {
            if (auto master = host.find(a.host_link->master)) {
                names.insert(master->name);
            }
        }
    }
    return {names.begin(), names.end()};
}

NetworkView build_network(const std::string& name, const libcni::NetworkList* list,
                          const std::vector<libcni::CacheEntry>& entries, const LinkTable& host) {
    NetworkView n;
    n.name = name;
    for (const auto& e : entries) {
        if (e.network != name) {
            continue;
        }
        AttachmentView a{e, false, std::nullopt, std::nullopt, {}};
        try {
            read_netns(a, host);
        } catch (const std::exception& err) {
            a.problem = libcni::one_line(err.what());
        }
        n.attachments.push_back(std::move(a));
    }
    std::optional<libcni::NetworkList> cached;
    if (list == nullptr && !n.attachments.empty()) {
        try {
            cached = libcni::parse_network_list(n.attachments.front().entry.config, "cache");
            list = &*cached;
        } catch (const libcni::Error&) {
            list = nullptr;  // show what the kernel has anyway
        }
    }
    if (list != nullptr) {
        for (const auto& p : list->plugins) {
            n.plugins.push_back(p.type);
        }
    }
    for (const auto& b : bridge_names(list, n.attachments, host)) {
        if (auto l = host.find(b)) {
            n.bridges.push_back(host.view(*l));
        }
    }
    return n;
}

json link_json(const std::optional<LinkView>& l) {
    if (!l) {
        return nullptr;
    }
    return {
        {"name", l->name}, {"index", l->index}, {"kind", l->kind},     {"mac", l->mac},
        {"mtu", l->mtu},   {"up", l->up},       {"master", l->master}, {"addresses", l->addresses}};
}

}  // namespace

std::vector<NetworkView> gather_topology(const libcni::ResultCache& cache,
                                         const std::filesystem::path& conf_dir,
                                         const std::optional<std::string>& only) {
    auto entries = cache.list();
    std::vector<std::pair<std::string, std::optional<libcni::NetworkList>>> networks;
    if (only) {
        std::optional<libcni::NetworkList> list;
        try {
            list = libcni::load_network(conf_dir, *only);
        } catch (const libcni::NotFoundError&) {
            bool cached = std::any_of(entries.begin(), entries.end(),
                                      [&](const auto& e) { return e.network == *only; });
            if (!cached) {
                throw;
            }
        }
        networks.emplace_back(*only, std::move(list));
    } else {
        std::set<std::string> seen;
        for (auto& f : libcni::scan_networks(conf_dir)) {
            if (f.list && seen.insert(f.list->name).second) {
                networks.emplace_back(f.list->name, std::move(f.list));
            }
        }
        for (const auto& e : entries) {
            if (seen.insert(e.network).second) {
                networks.emplace_back(e.network, std::nullopt);
            }
        }
    }
    auto sock = netlib::RouteSocket::open();
    LinkTable host(sock);
    std::vector<NetworkView> out;
    out.reserve(networks.size());
    for (const auto& [name, list] : networks) {
        out.push_back(build_network(name, list ? &*list : nullptr, entries, host));
    }
    return out;
}

json to_json(const std::vector<NetworkView>& networks) {
    json out = json::array();
    for (const auto& n : networks) {
        json bridges = json::array();
        for (const auto& b : n.bridges) {
            bridges.push_back(link_json(b));
        }
        json attachments = json::array();
        for (const auto& a : n.attachments) {
            attachments.push_back(
                {{"containerId", a.entry.container_id},
                 {"netns", a.entry.netns},
                 {"netnsExists", a.netns_exists},
                 {"ifName", a.entry.ifname},
                 {"hostInterface", link_json(a.host_link)},
                 {"interface", link_json(a.container_link)},
                 {"portMappings", a.entry.capability_args.value("portMappings", json::array())},
                 {"problem", a.problem}});
        }
        out.push_back({{"name", n.name},
                       {"plugins", n.plugins},
                       {"bridges", bridges},
                       {"attachments", attachments}});
    }
    return out;
}

}  // namespace sdnet
