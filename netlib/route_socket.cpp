#include "netlib/route_socket.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <new>

#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/errno.h>

#include "netlib/netns.hpp"
#include "netlib/route_socket_internal.hpp"

namespace netlib {
namespace {

// libnl folds errno values into its own NLE_* codes; for failures that never reached the kernel
// (allocation, sequence mismatch, truncation) pick the closest errno.
int nle_to_errno(int nle) {
    switch (nle < 0 ? -nle : nle) {
        case NLE_NOMEM:
            return ENOMEM;
        case NLE_MSGSIZE:
            return EMSGSIZE;
        case NLE_DUMP_INTR:
            return EINTR;
        case NLE_AGAIN:
            return EAGAIN;
        case NLE_PERM:
            return EPERM;
        case NLE_NOACCESS:
            return EACCES;
        case NLE_BAD_SOCK:
            return EBADF;
        default:
            return EPROTO;
    }
}

// The kernel's extended ack text from the TLVs after a NLMSG_ERROR/NLMSG_DONE payload of
// `payload_len` bytes. Without NETLINK_CAP_ACK the request itself is echoed before the TLVs.
std::string ext_ack_text(const nlmsghdr* hdr, std::size_t payload_len) {
    if ((hdr->nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
        return {};
    }
    std::size_t off = NLMSG_ALIGN(payload_len);
    std::size_t total = hdr->nlmsg_len - NLMSG_HDRLEN;
    if (off >= total) {
        return {};
    }
    auto* first = reinterpret_cast<nlattr*>(
        const_cast<char*>(reinterpret_cast<const char*>(hdr) + NLMSG_HDRLEN + off));
    nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
    if (nla_parse(tb, NLMSGERR_ATTR_MAX, first, static_cast<int>(total - off), nullptr) < 0 ||
        tb[NLMSGERR_ATTR_MSG] == nullptr) {
        return {};
    }
    const auto* text = static_cast<const char*>(nla_data(tb[NLMSGERR_ATTR_MSG]));
    return std::string{text,
                       strnlen(text, static_cast<std::size_t>(nla_len(tb[NLMSGERR_ATTR_MSG])))};
}

int on_kernel_error(sockaddr_nl* /*who*/, nlmsgerr* err, void* arg) {
    auto* impl = static_cast<RouteSocket::Impl*>(arg);
    const auto* hdr =
        reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(err) - NLMSG_HDRLEN);
    std::size_t payload = sizeof(nlmsgerr);
    if ((hdr->nlmsg_flags & NLM_F_CAPPED) == 0) {
        payload += err->msg.nlmsg_len - sizeof(nlmsghdr);
    }
    impl->last_errno = -err->error;
    impl->last_ack = ext_ack_text(hdr, payload);
    return NL_STOP;
}

// State of one request/reply exchange, shared with the libnl callbacks below. Callbacks never
// let an exception cross libnl's C frames: it is parked in `exc` and rethrown afterwards.
struct Exchange {
    RouteSocket::Impl* impl;
    const detail::MsgHandler* on_msg;
    bool finished = false;
    bool interrupted = false;
    std::exception_ptr exc;
};

int on_valid(nl_msg* msg, void* arg) {
    auto* x = static_cast<Exchange*>(arg);
    if (x->on_msg != nullptr && *x->on_msg && !x->exc) {
        try {
            (*x->on_msg)(msg);
        } catch (...) {
            x->exc = std::current_exception();
        }
    }
    return NL_OK;
}

int on_ack(nl_msg* /*msg*/, void* arg) {
    static_cast<Exchange*>(arg)->finished = true;
    return NL_STOP;
}

// NLMSG_DONE carries the dump's final status; libnl ignores it, so a dump that failed halfway
// would otherwise look like a short, successful one.
int on_done(nl_msg* msg, void* arg) {
    auto* x = static_cast<Exchange*>(arg);
    x->finished = true;
    nlmsghdr* hdr = nlmsg_hdr(msg);
    if (nlmsg_datalen(hdr) >= static_cast<int>(sizeof(int))) {
        int status = 0;
        std::memcpy(&status, nlmsg_data(hdr), sizeof status);
        if (status < 0) {
            x->impl->last_errno = -status;
            x->impl->last_ack = ext_ack_text(hdr, sizeof(int));
        }
    }
    return NL_STOP;
}

int on_dump_intr(nl_msg* /*msg*/, void* arg) {
    static_cast<Exchange*>(arg)->interrupted = true;
    return NL_OK;  // keep reading to NLMSG_DONE so the socket stays in sync
}

int exchange(RouteSocket& sock, nl_msg* msg, const detail::MsgHandler& on_msg, bool* interrupted) {
    RouteSocket::Impl& impl = sock.impl();
    impl.clear();
    CPtr<nl_cb, &nl_cb_put> base{nl_socket_get_cb(impl.get())};
    CPtr<nl_cb, &nl_cb_put> cb{nl_cb_clone(base.get())};
    if (!cb) {
        throw std::bad_alloc();
    }
    Exchange x{&impl, &on_msg, false, false, nullptr};
    nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &x);
    nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &x);
    nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_done, &x);
    nl_cb_set(cb.get(), NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, &x);

    int rc = nl_send_auto(impl.get(), msg);
    while (rc >= 0 && !x.finished) {
        rc = nl_recvmsgs_report(impl.get(), cb.get());
        if (rc == 0 && !x.finished) {
            rc = -NLE_FAILURE;  // nothing read: never spin
        }
    }
    if (x.exc) {
        std::rethrow_exception(x.exc);
    }
    if (interrupted != nullptr) {
        *interrupted = x.interrupted;
    }
    if (impl.last_errno != 0) {
        return impl.last_errno;
    }
    if (rc < 0) {
        impl.last_ack = nl_geterror(rc);
        return nle_to_errno(rc);
    }
    return 0;
}

}  // namespace

RouteSocket::RouteSocket(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

RouteSocket::RouteSocket(RouteSocket&&) noexcept = default;
RouteSocket& RouteSocket::operator=(RouteSocket&&) noexcept = default;
RouteSocket::~RouteSocket() = default;

RouteSocket RouteSocket::open() {
    auto impl = std::make_unique<Impl>();
    impl->sock.reset(nl_socket_alloc());
    if (!impl->sock) {
        throw std::bad_alloc();
    }
    nl_socket_modify_err_cb(impl->get(), NL_CB_CUSTOM, on_kernel_error, impl.get());
    if (int rc = nl_connect(impl->get(), NETLINK_ROUTE); rc < 0) {
        throw Error(nle_to_errno(rc), "connect", "NETLINK_ROUTE", nl_geterror(rc));
    }
    int fd = nl_socket_get_fd(impl->get());
    int on = 1;
    // Extended acks (4.12+) and strict dump checking (4.20+) are optional: older kernels reject
    // the option with ENOPROTOOPT and simply give terser errors and unfiltered dumps.
    for (int opt : {NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK}) {
        if (::setsockopt(fd, SOL_NETLINK, opt, &on, sizeof on) == -1 && errno != ENOPROTOOPT) {
            throw Error(errno, "setsockopt", "NETLINK_ROUTE");
        }
    }
    return RouteSocket{std::move(impl)};
}

RouteSocket RouteSocket::open_in(const Netns& ns) {
    NetnsGuard in{ns};
    return open();
}

namespace detail {

MsgPtr new_msg_raw(int type, int flags, const void* hdr, std::size_t len) {
    MsgPtr msg{nlmsg_alloc_simple(type, flags)};
    if (!msg || nlmsg_append(msg.get(), const_cast<void*>(hdr), len, NLMSG_ALIGNTO) < 0) {
        throw std::bad_alloc();
    }
    return msg;
}

void put(nl_msg* msg, int type, const void* data, std::size_t len) {
    if (nla_put(msg, type, static_cast<int>(len), data) < 0) {
        throw Error(EMSGSIZE, "build netlink message", "attribute " + std::to_string(type));
    }
}

void put_u8(nl_msg* msg, int type, std::uint8_t v) {
    put(msg, type, &v, sizeof v);
}

void put_u32(nl_msg* msg, int type, std::uint32_t v) {
    put(msg, type, &v, sizeof v);
}

void put_addr(nl_msg* msg, int type, const IpAddr& addr) {
    put(msg, type, addr.bytes().data(), addr.bytes().size());
}

nlattr* nest_start(nl_msg* msg, int type) {
    nlattr* start = nla_nest_start(msg, type);
    if (start == nullptr) {
        throw Error(EMSGSIZE, "build netlink message", "nest " + std::to_string(type));
    }
    return start;
}

void nest_end(nl_msg* msg, nlattr* start) {
    nla_nest_end(msg, start);
}

std::optional<IpAddr> get_addr(const nlattr* attr) {
    int len = nla_len(attr);
    if (len != 4 && len != 16) {
        return std::nullopt;
    }
    const auto* p = static_cast<const std::uint8_t*>(nla_data(attr));
    return IpAddr::from_bytes({p, static_cast<std::size_t>(len)});
}

int try_request(RouteSocket& sock, nl_msg* msg, const MsgHandler& on_reply) {
    return exchange(sock, msg, on_reply, nullptr);
}

void request(RouteSocket& sock, nl_msg* msg, std::string_view op, std::string_view object,
             const MsgHandler& on_reply) {
    if (int err = try_request(sock, msg, on_reply); err != 0) {
        fail(sock, err, op, object);
    }
}

int try_dump(RouteSocket& sock, const std::function<MsgPtr()>& make, const MsgHandler& on_msg,
             const std::function<void()>& restart) {
    constexpr int kMaxAttempts = 5;  // as the reference's netlinksafe
    for (int attempt = 1;; ++attempt) {
        MsgPtr msg = make();
        bool interrupted = false;
        if (int err = exchange(sock, msg.get(), on_msg, &interrupted); err != 0) {
            return err;
        }
        if (!interrupted) {
            return 0;
        }
        if (attempt == kMaxAttempts) {
            sock.impl().last_ack = "dump interrupted " + std::to_string(kMaxAttempts) + " times";
            return EAGAIN;
        }
        restart();
    }
}

void fail(RouteSocket& sock, int err, std::string_view op, std::string_view object) {
    throw Error(err, op, object, sock.impl().last_ack);
}

}  // namespace detail
}  // namespace netlib
