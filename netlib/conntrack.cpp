#include "netlib/conntrack.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "netlib/c_ptr.hpp"
#include "netlib/error.hpp"

namespace netlib {
namespace {

using MnlPtr = CPtr<mnl_socket, &mnl_socket_close>;

constexpr std::size_t kBufSize = std::size_t{64} * 1024;

struct Conn {
    mnl_socket* nl;
    std::uint32_t portid;
    std::uint32_t seq;
    std::vector<char> buf = std::vector<char>(kBufSize);
};

nlmsghdr* start(char* buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq,
                Family family) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | type);
    nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = static_cast<std::uint8_t>(to_af(family));
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    return nlh;
}

// One matching entry: its original tuple and zone, copied verbatim for the DELETE request.
struct Match {
    std::vector<char> tuple;
    std::vector<char> zone;
};

struct DumpState {
    const std::set<std::uint16_t>* ports;
    std::uint8_t l4proto;
    std::vector<Match> matches;
};

std::vector<char> copy_attr(const nlattr* attr) {
    const char* p = reinterpret_cast<const char*>(attr);
    return {p, p + attr->nla_len};
}

// Fills `tb` with the attributes of `nest` (or of the message after the nfgenmsg header).
int collect(const nlattr* attr, void* data) {
    auto** tb = static_cast<const nlattr**>(data);
    auto type = mnl_attr_get_type(attr);
    if (type <= CTA_MAX) {
        tb[type] = attr;
    }
    return MNL_CB_OK;
}

bool matches(const nlattr* orig, const DumpState& st) {
    const nlattr* tuple[CTA_MAX + 1] = {};
    mnl_attr_parse_nested(orig, collect, tuple);
    if (tuple[CTA_TUPLE_PROTO] == nullptr) {
        return false;
    }
    const nlattr* proto[CTA_MAX + 1] = {};
    mnl_attr_parse_nested(tuple[CTA_TUPLE_PROTO], collect, proto);
    if (proto[CTA_PROTO_NUM] == nullptr || proto[CTA_PROTO_DST_PORT] == nullptr ||
        mnl_attr_get_u8(proto[CTA_PROTO_NUM]) != st.l4proto) {
        return false;
    }
    return st.ports->contains(ntohs(mnl_attr_get_u16(proto[CTA_PROTO_DST_PORT])));
}

int on_entry(const nlmsghdr* nlh, void* data) {
    auto* st = static_cast<DumpState*>(data);
    const nlattr* tb[CTA_MAX + 1] = {};
    mnl_attr_parse(nlh, sizeof(nfgenmsg), collect, tb);
    if (tb[CTA_TUPLE_ORIG] != nullptr && matches(tb[CTA_TUPLE_ORIG], *st)) {
        Match m{copy_attr(tb[CTA_TUPLE_ORIG]), {}};
        if (tb[CTA_ZONE] != nullptr) {
            m.zone = copy_attr(tb[CTA_ZONE]);
        }
        st->matches.push_back(std::move(m));
    }
    return MNL_CB_OK;
}

// Reads replies to `seq` until the dump ends or the ack arrives; returns the errno (0 = ok).
int run(Conn& c, std::uint32_t seq, mnl_cb_t cb, void* data) {
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(c.nl, c.buf.data(), c.buf.size());
        if (n < 0) {
            return errno == EAGAIN ? ETIMEDOUT : errno;
        }
        int rc = mnl_cb_run(c.buf.data(), static_cast<std::size_t>(n), seq, c.portid, cb, data);
        if (rc == MNL_CB_ERROR) {
            return errno;
        }
        if (rc == MNL_CB_STOP) {
            return 0;
        }
    }
}

void send(Conn& c, const nlmsghdr* nlh, const char* what) {
    check_errno(mnl_socket_sendto(c.nl, nlh, nlh->nlmsg_len), "send", what);
}

// The entries of the family (the kernel skips the others: nfgenmsg's family) whose original
// direction has protocol `l4proto` and a destination port in `ports`. Filtered here: the kernel
// filters a dump or a delete by port only with CTA_FILTER flags, whose values are not uapi
// (they live in net/netfilter/nf_internals.h).
std::vector<Match> dump(Conn& c, Family family, std::uint8_t l4proto,
                        const std::set<std::uint16_t>& ports) {
    std::uint32_t seq = ++c.seq;
    nlmsghdr* nlh = start(c.buf.data(), IPCTNL_MSG_CT_GET, NLM_F_DUMP, seq, family);
    send(c, nlh, "IPCTNL_MSG_CT_GET");
    DumpState st{&ports, l4proto, {}};
    if (int err = run(c, seq, on_entry, &st); err != 0) {
        throw Error(err, "IPCTNL_MSG_CT_GET", "conntrack dump");
    }
    return std::move(st.matches);
}

// Deletes one entry by its original tuple (and zone), as the dump reported it.
void delete_entry(Conn& c, Family family, const Match& m) {
    std::uint32_t seq = ++c.seq;
    nlmsghdr* nlh = start(c.buf.data(), IPCTNL_MSG_CT_DELETE, NLM_F_ACK, seq, family);
    for (const auto* attr : {&m.tuple, &m.zone}) {
        if (!attr->empty()) {
            std::memcpy(mnl_nlmsg_get_payload_tail(nlh), attr->data(), attr->size());
            nlh->nlmsg_len += MNL_ALIGN(static_cast<std::uint32_t>(attr->size()));
        }
    }
    send(c, nlh, "IPCTNL_MSG_CT_DELETE");
    int err = run(c, seq, nullptr, nullptr);
    if (err != 0 && err != ENOENT) {  // ENOENT: it expired meanwhile
        throw Error(err, "IPCTNL_MSG_CT_DELETE", "conntrack entry");
    }
}

// The number of entries of this network namespace (IPCTNL_MSG_CT_GET_STATS, what
// `conntrack -C` prints): one cheap request, unlike a dump, which walks the whole (global) hash
// table.
std::uint32_t entry_count(Conn& c) {
    std::uint32_t seq = ++c.seq;
    // A doit request: one reply, which ends the exchange (no ack asked for).
    nlmsghdr* nlh = start(c.buf.data(), IPCTNL_MSG_CT_GET_STATS, 0, seq, Family::V4);
    send(c, nlh, "IPCTNL_MSG_CT_GET_STATS");
    std::uint32_t count = 0;
    auto cb = [](const nlmsghdr* reply, void* data) -> int {
        const nlattr* tb[CTA_MAX + 1] = {};
        mnl_attr_parse(reply, sizeof(nfgenmsg), collect, tb);
        if (tb[CTA_STATS_GLOBAL_ENTRIES] != nullptr) {
            *static_cast<std::uint32_t*>(data) =
                ntohl(mnl_attr_get_u32(tb[CTA_STATS_GLOBAL_ENTRIES]));
        }
        return MNL_CB_STOP;
    };
    if (int err = run(c, seq, cb, &count); err != 0) {
        return 1;  // unknown: let the dump decide
    }
    return count;
}

}  // namespace

void conntrack_delete_by_dport(Family family, std::uint8_t l4proto,
                               const std::set<std::uint16_t>& ports) {
    if (ports.empty()) {
        return;
    }
    MnlPtr nl{mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)};
    if (!nl) {
        throw Error(errno, "socket", "NETLINK_NETFILTER");
    }
    check_errno(mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID), "bind", "NETLINK_NETFILTER");
    timeval timeout{5, 0};  // never hang a plugin on a kernel that does not answer
    setsockopt(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    Conn c{nl.get(), mnl_socket_get_portid(nl.get()), 0};
    if (entry_count(c) == 0) {
        return;  // nothing can be stale; spares the table walk
    }
    for (const auto& m : dump(c, family, l4proto, ports)) {
        delete_entry(c, family, m);
    }
}

}  // namespace netlib
