#include "netlib/tc.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <vector>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/object.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "netlib/link_internal.hpp"

namespace netlib {
namespace {

constexpr std::uint16_t kRedirectPriority = 1;
constexpr std::uint32_t kRedirectClassId = 0x00010001;  // flowid 1:1, as the reference

using QdiscPtr = CPtr<rtnl_qdisc, &rtnl_qdisc_put>;
using ClsPtr = CPtr<rtnl_cls, &rtnl_cls_put>;
using ActPtr = CPtr<rtnl_act, &rtnl_act_put>;

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

QdiscPtr new_qdisc(int ifindex, std::uint32_t parent, std::uint32_t handle, const char* kind) {
    QdiscPtr q{rtnl_qdisc_alloc()};
    if (!q) {
        throw std::bad_alloc();
    }
    rtnl_tc* tc = TC_CAST(q.get());
    rtnl_tc_set_ifindex(tc, ifindex);
    rtnl_tc_set_parent(tc, parent);
    rtnl_tc_set_handle(tc, handle);
    if (rtnl_tc_set_kind(tc, kind) < 0) {
        throw std::bad_alloc();
    }
    return q;
}

bool delete_qdisc(RouteSocket& sock, int ifindex, std::uint32_t parent, const QdiscInfo& q) {
    // With the kind and the handle the kernel deletes nothing but the qdisc we looked at.
    QdiscPtr qdisc = new_qdisc(ifindex, parent, q.handle, q.kind.c_str());
    nl_msg* raw = nullptr;
    int rc = rtnl_qdisc_build_delete_request(qdisc.get(), &raw);
    std::string op = "RTM_DELQDISC " + q.kind;
    int err = detail::try_send_built(sock, rc, raw, op, dev_label(ifindex));
    if (err == ENOENT || err == ENODEV) {
        return false;
    }
    if (err != 0) {
        detail::fail(sock, err, op, dev_label(ifindex));
    }
    return true;
}

// `match u32 0 0` flowid 1:1 on the ingress qdisc, priority 1, every protocol, whose one action
// (mirred) steals each packet and sends it out of `target`.
ClsPtr new_redirect_filter(int ifindex, int target) {
    ClsPtr cls{rtnl_cls_alloc()};
    ActPtr mirred{rtnl_act_alloc()};
    if (!cls || !mirred) {
        throw std::bad_alloc();
    }
    rtnl_tc* tc = TC_CAST(cls.get());
    rtnl_tc_set_ifindex(tc, ifindex);
    rtnl_tc_set_parent(tc, kIngressHandle);
    rtnl_cls_set_prio(cls.get(), kRedirectPriority);
    rtnl_cls_set_protocol(cls.get(), ETH_P_ALL);
    int rc = rtnl_tc_set_kind(tc, "u32");
    rc = rc < 0 ? rc : rtnl_u32_set_classid(cls.get(), kRedirectClassId);
    rc = rc < 0 ? rc : rtnl_u32_add_key_uint32(cls.get(), 0, 0, 0, 0);
    rc = rc < 0 ? rc : rtnl_u32_set_cls_terminal(cls.get());
    rc = rc < 0 ? rc : rtnl_tc_set_kind(TC_CAST(mirred.get()), "mirred");
    rc = rc < 0 ? rc : rtnl_mirred_set_action(mirred.get(), TCA_EGRESS_REDIR);
    rc = rc < 0 ? rc : rtnl_mirred_set_policy(mirred.get(), TC_ACT_STOLEN);
    rc = rc < 0 ? rc : rtnl_mirred_set_ifindex(mirred.get(), static_cast<std::uint32_t>(target));
    rc = rc < 0 ? rc : rtnl_u32_add_action(cls.get(), mirred.get());  // takes its own reference
    if (rc < 0) {
        throw Error(EINVAL, "u32 mirred filter", dev_label(ifindex), nl_geterror(rc));
    }
    return cls;
}

// The target of the first mirred egress redirect among a filter's actions, or 0.
int redirect_target(rtnl_cls* cls) {
    for (rtnl_act* act = rtnl_u32_get_action(cls); act != nullptr; act = rtnl_act_next(act)) {
        const char* kind = rtnl_tc_get_kind(TC_CAST(act));
        if (kind != nullptr && std::strcmp(kind, "mirred") == 0 &&
            rtnl_mirred_get_action(act) == TCA_EGRESS_REDIR) {
            return static_cast<int>(rtnl_mirred_get_ifindex(act));
        }
    }
    return 0;
}

// Whether the selector has no key that can fail (every mask zero).
bool selector_matches_all(rtnl_cls* cls) {
    std::uint32_t value = 0;
    std::uint32_t mask = 0;
    int off = 0;
    int offmask = 0;
    for (std::uint8_t i = 0; rtnl_u32_get_key(cls, i, &value, &mask, &off, &offmask) == 0; ++i) {
        if (mask != 0) {
            return false;
        }
    }
    return true;
}

struct FilterParse {
    std::vector<IngressRedirect>* out;
    std::exception_ptr exc;
};

IngressRedirect to_redirect(rtnl_cls* cls) {
    IngressRedirect r;
    r.kind = rtnl_tc_get_kind(TC_CAST(cls));
    r.priority = rtnl_cls_get_prio(cls);
    r.protocol = rtnl_cls_get_protocol(cls);
    r.match_all = selector_matches_all(cls);
    r.target = redirect_target(cls);  // 0 for a hash table node or a filter without actions
    return r;
}

// Runs inside libnl's C frames (nl_msg_parse): no exception may escape.
void on_parsed_filter(nl_object* obj, void* arg) {
    auto* ctx = static_cast<FilterParse*>(arg);
    auto* cls = reinterpret_cast<rtnl_cls*>(obj);
    const char* kind = rtnl_tc_get_kind(TC_CAST(cls));
    // Only u32 is decoded: that is what both this library and the reference plugin install.
    if (kind == nullptr || std::strcmp(kind, "u32") != 0) {
        return;
    }
    try {
        if (IngressRedirect r = to_redirect(cls); r.target != 0) {
            ctx->out->push_back(std::move(r));
        }
    } catch (...) {
        ctx->exc = std::current_exception();
    }
}

void on_filter(nl_msg* msg, std::vector<IngressRedirect>& out) {
    if (nlmsg_hdr(msg)->nlmsg_type != RTM_NEWTFILTER) {
        return;
    }
    // libnl's parsers decode the u32 selector and every action kind's options.
    FilterParse ctx{&out, nullptr};
    nl_msg_parse(msg, on_parsed_filter, &ctx);
    if (ctx.exc) {
        std::rethrow_exception(ctx.exc);
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
    static const double kTicks = read_psched();
    return kTicks;
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
    QdiscPtr q = new_qdisc(ifindex, TC_H_INGRESS, kIngressHandle, "ingress");
    nl_msg* raw = nullptr;
    int rc = rtnl_qdisc_build_add_request(q.get(), NLM_F_CREATE | NLM_F_EXCL, &raw);
    if (int err = detail::try_send_built(sock, rc, raw, "RTM_NEWQDISC ingress", dev_label(ifindex));
        err != 0) {
        detail::fail(sock, err, "RTM_NEWQDISC ingress", dev_label(ifindex));
    }
}

void add_ingress_redirect(RouteSocket& sock, int ifindex, int target) {
    ClsPtr cls = new_redirect_filter(ifindex, target);
    nl_msg* raw = nullptr;
    int rc = rtnl_cls_build_add_request(cls.get(), NLM_F_CREATE | NLM_F_EXCL, &raw);
    std::string op = "RTM_NEWTFILTER u32 mirred to #" + std::to_string(target);
    if (int err = detail::try_send_built(sock, rc, raw, op, dev_label(ifindex)); err != 0) {
        detail::fail(sock, err, op, dev_label(ifindex));
    }
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
