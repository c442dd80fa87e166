#include "netlib/tc.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <arpa/inet.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include "netlib/route_socket_internal.hpp"

namespace netlib {
namespace {

constexpr std::uint16_t kRedirectPriority = 1;
constexpr std::uint32_t kRedirectClassId = 0x00010001;  // flowid 1:1, as the reference

std::string dev_label(int ifindex) {
    return "dev #" + std::to_string(ifindex);
}

tcmsg tc_header(int ifindex, std::uint32_t parent, std::uint32_t handle) {
    tcmsg hdr{};
    hdr.tcm_family = AF_UNSPEC;
    hdr.tcm_ifindex = ifindex;
    hdr.tcm_parent = parent;
    hdr.tcm_handle = handle;
    return hdr;
}

void put_string(nl_msg* msg, int type, const std::string& s) {
    detail::put(msg, type, s.c_str(), s.size() + 1);
}

std::string get_string(const nlattr* attr) {
    const auto* p = static_cast<const char*>(nla_data(attr));
    return {p, strnlen(p, static_cast<std::size_t>(nla_len(attr)))};
}

// Copies a fixed-size kernel struct out of `attr`; false when the payload is too short.
template <class T>
bool get_struct(const nlattr* attr, T& out) {
    if (attr == nullptr || nla_len(attr) < static_cast<int>(sizeof(T))) {
        return false;
    }
    std::memcpy(&out, nla_data(attr), sizeof(T));
    return true;
}

std::optional<TbfSpec> parse_tbf(nlattr* options) {
    nlattr* tb[TCA_TBF_MAX + 1] = {};
    tc_tbf_qopt qopt{};
    if (options == nullptr || nla_parse_nested(tb, TCA_TBF_MAX, options, nullptr) < 0 ||
        !get_struct(tb[TCA_TBF_PARMS], qopt)) {
        return std::nullopt;
    }
    TbfSpec spec{qopt.rate.rate, qopt.buffer, qopt.limit};
    // Rates of 4 GiB/s and more do not fit the 32-bit field, which then reads ~0U.
    if (tb[TCA_TBF_RATE64] != nullptr && nla_len(tb[TCA_TBF_RATE64]) >= 8) {
        spec.rate = nla_get_u64(tb[TCA_TBF_RATE64]);
    }
    return spec;
}

detail::MsgHandler qdisc_collector(std::optional<QdiscInfo>& out) {
    return [&out](nl_msg* msg) {
        nlmsghdr* hdr = nlmsg_hdr(msg);
        nlattr* tb[TCA_MAX + 1] = {};
        if (hdr->nlmsg_type != RTM_NEWQDISC ||
            nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0 || tb[TCA_KIND] == nullptr) {
            return;
        }
        const auto* tcm = static_cast<const tcmsg*>(nlmsg_data(hdr));
        QdiscInfo q;
        q.kind = get_string(tb[TCA_KIND]);
        q.handle = tcm->tcm_handle;
        q.parent = tcm->tcm_parent;
        if (q.kind == "tbf") {
            q.tbf = parse_tbf(tb[TCA_OPTIONS]);
        }
        out = std::move(q);
    };
}

std::optional<QdiscInfo> get_qdisc(RouteSocket& sock, int ifindex, std::uint32_t parent) {
    // The kernel answers a qdisc GET as a notification, sent back to the asker only with
    // NLM_F_ECHO (tc_get_qdisc -> qdisc_get_notify -> rtnetlink_send).
    detail::MsgPtr msg = detail::new_msg(RTM_GETQDISC, NLM_F_ECHO, tc_header(ifindex, parent, 0));
    std::optional<QdiscInfo> out;
    int err = detail::try_request(sock, msg.get(), qdisc_collector(out));
    if (err == ENOENT || err == ENODEV) {
        return std::nullopt;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETQDISC", dev_label(ifindex));
    }
    return out;
}

bool delete_qdisc(RouteSocket& sock, int ifindex, std::uint32_t parent, const QdiscInfo& q) {
    detail::MsgPtr msg = detail::new_msg(RTM_DELQDISC, 0, tc_header(ifindex, parent, q.handle));
    // With the kind and the handle the kernel deletes nothing but the qdisc we looked at.
    put_string(msg.get(), TCA_KIND, q.kind);
    int err = detail::try_request(sock, msg.get());
    if (err == ENOENT || err == ENODEV) {
        return false;
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_DELQDISC " + q.kind, dev_label(ifindex));
    }
    return true;
}

// The selector of `match u32 0 0`: one key that every packet passes.
std::vector<std::uint8_t> match_all_selector() {
    std::vector<std::uint8_t> buf(sizeof(tc_u32_sel) + sizeof(tc_u32_key), 0);
    tc_u32_sel sel{};
    sel.flags = TC_U32_TERMINAL;
    sel.nkeys = 1;
    std::memcpy(buf.data(), &sel, sizeof sel);  // the key that follows stays all zero
    return buf;
}

void put_mirred_redirect(nl_msg* msg, int target) {
    nlattr* acts = detail::nest_start(msg, TCA_U32_ACT);
    nlattr* first = detail::nest_start(msg, 1);  // actions are numbered from 1
    put_string(msg, TCA_ACT_KIND, "mirred");
    nlattr* opts = detail::nest_start(msg, TCA_ACT_OPTIONS);
    tc_mirred parms{};
    parms.action = TC_ACT_STOLEN;  // the packet now belongs to the ifb: no copy goes on
    parms.eaction = TCA_EGRESS_REDIR;
    parms.ifindex = static_cast<std::uint32_t>(target);
    detail::put(msg, TCA_MIRRED_PARMS, &parms, sizeof parms);
    detail::nest_end(msg, opts);
    detail::nest_end(msg, first);
    detail::nest_end(msg, acts);
}

// The target of the first mirred egress redirect among a filter's actions, or 0.
int redirect_target(nlattr* actions) {
    nlattr* act = nullptr;
    int rem = 0;
    nla_for_each_nested(act, actions, rem) {
        nlattr* tb[TCA_ACT_MAX + 1] = {};
        if (nla_parse_nested(tb, TCA_ACT_MAX, act, nullptr) < 0 || tb[TCA_ACT_KIND] == nullptr ||
            get_string(tb[TCA_ACT_KIND]) != "mirred" || tb[TCA_ACT_OPTIONS] == nullptr) {
            continue;
        }
        nlattr* opt[TCA_MIRRED_MAX + 1] = {};
        tc_mirred parms{};
        if (nla_parse_nested(opt, TCA_MIRRED_MAX, tb[TCA_ACT_OPTIONS], nullptr) == 0 &&
            get_struct(opt[TCA_MIRRED_PARMS], parms) && parms.eaction == TCA_EGRESS_REDIR) {
            return static_cast<int>(parms.ifindex);
        }
    }
    return 0;
}

bool selector_matches_all(nlattr* attr) {
    tc_u32_sel sel{};
    if (!get_struct(attr, sel)) {
        return false;
    }
    std::size_t have = static_cast<std::size_t>(nla_len(attr)) - sizeof sel;
    if (have < sel.nkeys * sizeof(tc_u32_key)) {
        return false;
    }
    const auto* keys = static_cast<const std::uint8_t*>(nla_data(attr)) + sizeof sel;
    for (std::size_t i = 0; i < sel.nkeys; ++i) {
        tc_u32_key key{};
        std::memcpy(&key, keys + i * sizeof key, sizeof key);
        if (key.mask != 0) {
            return false;
        }
    }
    return true;
}

void on_filter(nl_msg* msg, std::vector<IngressRedirect>& out) {
    nlmsghdr* hdr = nlmsg_hdr(msg);
    nlattr* tb[TCA_MAX + 1] = {};
    if (hdr->nlmsg_type != RTM_NEWTFILTER ||
        nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0 || tb[TCA_KIND] == nullptr ||
        tb[TCA_OPTIONS] == nullptr) {
        return;
    }
    IngressRedirect r;
    r.kind = get_string(tb[TCA_KIND]);
    nlattr* opt[TCA_U32_MAX + 1] = {};
    // Only u32 is decoded: that is what both this library and the reference plugin install.
    if (r.kind != "u32" || nla_parse_nested(opt, TCA_U32_MAX, tb[TCA_OPTIONS], nullptr) < 0 ||
        opt[TCA_U32_ACT] == nullptr) {
        return;  // a hash table node, or a filter without actions
    }
    const auto* tcm = static_cast<const tcmsg*>(nlmsg_data(hdr));
    r.priority = static_cast<std::uint16_t>(tcm->tcm_info >> 16);
    r.protocol = ntohs(static_cast<std::uint16_t>(tcm->tcm_info & 0xffff));
    r.match_all = selector_matches_all(opt[TCA_U32_SEL]);
    r.target = redirect_target(opt[TCA_U32_ACT]);
    if (r.target != 0) {
        out.push_back(r);
    }
}

double read_psched() {
    std::FILE* f = std::fopen("/proc/net/psched", "re");
    if (f == nullptr) {
        throw Error(errno, "open", "/proc/net/psched");
    }
    unsigned t2us = 0;
    unsigned us2t = 0;
    unsigned clock_res = 0;
    int n = std::fscanf(f, "%08x%08x%08x", &t2us, &us2t, &clock_res);
    std::fclose(f);
    if (n != 3 || us2t == 0) {
        throw Error(EPROTO, "parse", "/proc/net/psched");
    }
    // iproute2's compatibility rule: a nanosecond clock advertises a multiplier that means 1.
    if (clock_res == 1000000000) {
        t2us = us2t;
    }
    return double(t2us) / double(us2t) * (double(clock_res) / 1e6);
}

}  // namespace

double psched_ticks_per_usec() {
    static const double ticks = read_psched();
    return ticks;
}

void add_root_tbf(RouteSocket& sock, int ifindex, const TbfSpec& spec) {
    detail::MsgPtr msg = detail::new_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL,
                                         tc_header(ifindex, TC_H_ROOT, kTbfHandle));
    put_string(msg.get(), TCA_KIND, "tbf");
    nlattr* opts = detail::nest_start(msg.get(), TCA_OPTIONS);
    tc_tbf_qopt qopt{};
    qopt.rate.rate = spec.rate > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(spec.rate);
    qopt.rate.linklayer = TC_LINKLAYER_ETHERNET;
    qopt.limit = spec.limit;
    qopt.buffer = spec.buffer;
    detail::put(msg.get(), TCA_TBF_PARMS, &qopt, sizeof qopt);
    if (spec.rate > UINT32_MAX) {
        std::uint64_t rate = spec.rate;
        detail::put(msg.get(), TCA_TBF_RATE64, &rate, sizeof rate);
    }
    detail::nest_end(msg.get(), opts);
    detail::request(sock, msg.get(), "RTM_NEWQDISC tbf", dev_label(ifindex));
}

void add_ingress_qdisc(RouteSocket& sock, int ifindex) {
    detail::MsgPtr msg = detail::new_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL,
                                         tc_header(ifindex, TC_H_INGRESS, kIngressHandle));
    put_string(msg.get(), TCA_KIND, "ingress");
    detail::request(sock, msg.get(), "RTM_NEWQDISC ingress", dev_label(ifindex));
}

void add_ingress_redirect(RouteSocket& sock, int ifindex, int target) {
    tcmsg hdr = tc_header(ifindex, kIngressHandle, 0);
    hdr.tcm_info = TC_H_MAKE(std::uint32_t{kRedirectPriority} << 16, htons(ETH_P_ALL));
    detail::MsgPtr msg = detail::new_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, hdr);
    put_string(msg.get(), TCA_KIND, "u32");
    nlattr* opts = detail::nest_start(msg.get(), TCA_OPTIONS);
    detail::put_u32(msg.get(), TCA_U32_CLASSID, kRedirectClassId);
    std::vector<std::uint8_t> sel = match_all_selector();
    detail::put(msg.get(), TCA_U32_SEL, sel.data(), sel.size());
    put_mirred_redirect(msg.get(), target);
    detail::nest_end(msg.get(), opts);
    detail::request(sock, msg.get(), "RTM_NEWTFILTER u32 mirred to #" + std::to_string(target),
                    dev_label(ifindex));
}

std::optional<QdiscInfo> find_root_qdisc(RouteSocket& sock, int ifindex) {
    return get_qdisc(sock, ifindex, TC_H_ROOT);
}

std::optional<QdiscInfo> find_ingress_qdisc(RouteSocket& sock, int ifindex) {
    return get_qdisc(sock, ifindex, TC_H_INGRESS);
}

std::vector<IngressRedirect> list_ingress_redirects(RouteSocket& sock, int ifindex) {
    std::vector<IngressRedirect> out;
    auto make = [ifindex] {
        return detail::new_msg(RTM_GETTFILTER, NLM_F_DUMP, tc_header(ifindex, kIngressHandle, 0));
    };
    auto on_msg = [&out](nl_msg* msg) { on_filter(msg, out); };
    int err = detail::try_dump(sock, make, on_msg, [&out] { out.clear(); });
    // No ingress qdisc (EINVAL/ENOENT) or no link (ENODEV): no redirects.
    if (err == EINVAL || err == ENOENT || err == ENODEV) {
        return {};
    }
    if (err != 0) {
        detail::fail(sock, err, "RTM_GETTFILTER", dev_label(ifindex));
    }
    return out;
}

bool remove_root_tbf(RouteSocket& sock, int ifindex) {
    auto q = find_root_qdisc(sock, ifindex);
    if (!q || q->kind != "tbf" || q->handle != kTbfHandle) {
        return false;
    }
    return delete_qdisc(sock, ifindex, TC_H_ROOT, *q);
}

bool remove_ingress_qdisc(RouteSocket& sock, int ifindex) {
    auto q = find_ingress_qdisc(sock, ifindex);
    if (!q || q->kind != "ingress") {
        return false;
    }
    return delete_qdisc(sock, ifindex, TC_H_INGRESS, *q);
}

}  // namespace netlib
