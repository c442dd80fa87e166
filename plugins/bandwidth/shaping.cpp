#include "plugins/bandwidth/shaping.hpp"

#include <algorithm>

#include "plugins/cni/error.hpp"

namespace bandwidth {
namespace {

constexpr std::size_t kMaxAlias = 255;  // IFALIASZ - 1

[[noreturn]] void mismatch(const std::string& what) {
    throw cni::Error(cni::Code::Internal, "CHECK failed: " + what);
}

bool listed_on_host(const cni::Result& prev, const std::string& name) {
    bool any_host = false;
    for (const auto& i : prev.interfaces) {
        if (i.sandbox.empty()) {
            any_host = true;
            if (i.name == name) {
                return true;
            }
        }
    }
    return !any_host;
}

std::string describe(const netlib::TbfSpec& t) {
    return "rate " + std::to_string(t.rate) + " B/s, buffer " + std::to_string(t.buffer) +
           " ticks, limit " + std::to_string(t.limit) + " B";
}

void expect_tbf(netlib::RouteSocket& sock, const netlib::LinkInfo& dev,
                const netlib::TbfSpec& want) {
    auto q = netlib::find_root_qdisc(sock, dev.index);
    if (!q || q->kind != "tbf" || !q->tbf) {
        mismatch("no tbf root qdisc on \"" + dev.name + "\" (found " +
                 (q ? "\"" + q->kind + "\"" : std::string{"none"}) + ")");
    }
    if (*q->tbf != want) {
        mismatch("tbf on \"" + dev.name + "\" has " + describe(*q->tbf) + "; the configuration " +
                 "gives " + describe(want));
    }
}

void expect_redirect(netlib::RouteSocket& sock, const netlib::LinkInfo& dev,
                     const netlib::LinkInfo& ifb) {
    auto q = netlib::find_ingress_qdisc(sock, dev.index);
    if (!q || q->kind != "ingress") {
        mismatch("no ingress qdisc on \"" + dev.name + "\"");
    }
    auto redirects = netlib::list_ingress_redirects(sock, dev.index);
    bool found = std::any_of(redirects.begin(), redirects.end(),
                             [&](const auto& r) { return r.target == ifb.index && r.match_all; });
    if (!found) {
        mismatch("no filter on \"" + dev.name + "\" redirects all traffic to \"" + ifb.name + "\"");
    }
}

}  // namespace

Site locate(netlib::RouteSocket& host, netlib::RouteSocket& ctr, const std::string& ifname,
            const cni::Result& prev) {
    auto site = find_site(host, ctr, ifname, prev);
    if (!site) {
        throw cni::Error(cni::Code::Internal,
                         "interface \"" + ifname + "\" not found in the container namespace");
    }
    return *site;
}

std::optional<Site> find_site(netlib::RouteSocket& host, netlib::RouteSocket& ctr,
                              const std::string& ifname, const cni::Result& prev) {
    auto c = netlib::find_link(ctr, ifname);
    if (!c) {
        return std::nullopt;
    }
    if (c->kind == "veth" && c->peer_index > 0) {
        auto h = netlib::find_link(host, c->peer_index);
        // An index alone could name an unrelated veth when the peer lives in a third
        // namespace: the peer must point back and be the one prevResult reports.
        if (h && h->kind == "veth" && h->peer_index == c->index && listed_on_host(prev, h->name)) {
            return Site{&host, *h, false};
        }
    }
    return Site{&ctr, *c, true};
}

DevLimits dev_limits(const Config& cfg, bool in_container) {
    std::optional<netlib::TbfSpec> to_ctr;
    std::optional<netlib::TbfSpec> from_ctr;
    if (cfg.ingress) {
        to_ctr = tbf_spec(*cfg.ingress);
    }
    if (cfg.egress) {
        from_ctr = tbf_spec(*cfg.egress);
    }
    return in_container ? DevLimits{from_ctr, to_ctr} : DevLimits{to_ctr, from_ctr};
}

std::optional<netlib::LinkInfo> shape(const Site& site, const DevLimits& limits,
                                      const netlib::IfbSpec& ifb_spec, cni::Rollback& undo) {
    netlib::RouteSocket& sock = *site.sock;
    const int dev = site.dev.index;
    if (limits.egress) {
        netlib::add_root_tbf(sock, dev, *limits.egress);
        undo.add([&sock, dev] { (void)netlib::remove_root_tbf(sock, dev); });
    }
    if (!limits.ingress) {
        return std::nullopt;
    }
    netlib::LinkInfo ifb = netlib::create_ifb(sock, ifb_spec);
    undo.add([&sock, index = ifb.index] { (void)netlib::remove_link(sock, index); });
    // The ifb shapes before the first packet is redirected to it (the reference adds its tbf
    // last, letting traffic through unshaped in between).
    netlib::add_root_tbf(sock, ifb.index, *limits.ingress);
    netlib::add_ingress_qdisc(sock, dev);
    undo.add([&sock, dev] { (void)netlib::remove_ingress_qdisc(sock, dev); });
    netlib::add_ingress_redirect(sock, dev, ifb.index);
    return ifb;
}

void unshape(netlib::RouteSocket& sock, const netlib::LinkInfo& dev,
             const std::vector<netlib::LinkInfo>& ifbs) {
    auto redirects = netlib::list_ingress_redirects(sock, dev.index);
    bool ours = std::any_of(redirects.begin(), redirects.end(), [&](const auto& r) {
        return std::any_of(ifbs.begin(), ifbs.end(),
                           [&](const netlib::LinkInfo& ifb) { return ifb.index == r.target; });
    });
    if (ours) {
        (void)netlib::remove_ingress_qdisc(sock, dev.index);
    }
    (void)netlib::remove_root_tbf(sock, dev.index);
}

void verify(const Site& site, const DevLimits& limits, const std::string& ifb_name) {
    netlib::RouteSocket& sock = *site.sock;
    if (limits.egress) {
        expect_tbf(sock, site.dev, *limits.egress);
    }
    if (limits.ingress) {
        auto ifb = netlib::find_link(sock, ifb_name);
        if (!ifb) {
            mismatch("ifb \"" + ifb_name + "\" does not exist");
        }
        expect_tbf(sock, *ifb, *limits.ingress);
        expect_redirect(sock, site.dev, *ifb);
    }
}

std::string owner_alias(const std::string& network, const std::string& container_id,
                        const std::string& ifname) {
    std::string alias = network + "/" + container_id + "/" + ifname;
    return alias.size() <= kMaxAlias ? alias : std::string{};
}

std::optional<Owner> parse_owner_alias(const std::string& alias) {
    // None of the three may contain '/' (CNI name, container id and ifname rules).
    auto second = alias.rfind('/');
    if (second == std::string::npos || second == 0) {
        return std::nullopt;
    }
    auto first = alias.rfind('/', second - 1);
    if (first == std::string::npos) {
        return std::nullopt;
    }
    Owner o{alias.substr(0, first), alias.substr(first + 1, second - first - 1),
            alias.substr(second + 1)};
    if (o.network.empty() || o.container_id.empty() || o.ifname.empty()) {
        return std::nullopt;
    }
    return o;
}

}  // namespace bandwidth
