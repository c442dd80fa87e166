// NftSocket: one NETLINK_NETFILTER socket, transactions (batches) and read-back requests.
//
// Batches: nfnetlink processes a batch synchronously inside sendmsg(), so every reply is queued
// on our socket by the time sendto() returns. Only the last message asks for an ack; the kernel
// reports every failing message (it keeps going after the first failure so userspace sees them
// all) and delivers the reports in message order, so the last message's ack (or error) closes
// the batch. Errors aimed at the batch begin/end markers reject the transaction as a whole.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <span>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "netlib/nft.hpp"
#include "netlib/nft_batch_internal.hpp"
#include "netlib/nft_msg_internal.hpp"
#include "netlib/nft_socket_internal.hpp"

namespace netlib {

using namespace nft_detail;

namespace {

constexpr int kRcvBufBytes = 4 * 1024 * 1024;  // room for thousands of error reports

// A NUL-terminated printable string attribute at `offset` of `msg`, if there is one.
std::optional<std::string> string_attr(std::span<const char> msg, std::size_t offset) {
    nlattr attr{};
    if (offset + sizeof attr > msg.size()) {
        return std::nullopt;
    }
    std::memcpy(&attr, msg.data() + offset, sizeof attr);
    std::size_t len = attr.nla_len >= sizeof attr ? attr.nla_len - sizeof attr : 0;
    const char* value = msg.data() + offset + sizeof attr;
    auto printable = [](char c) { return std::isprint(static_cast<unsigned char>(c)) != 0; };
    if (len < 2 || offset + sizeof attr + len > msg.size() || value[len - 1] != 0 ||
        !std::all_of(value, value + len - 1, printable)) {
        return std::nullopt;
    }
    return std::string(value, len - 1);
}

// What an extended ack's NLMSGERR_ATTR_OFFS points at in the message we sent: a name
// ('rejected "postrouting"'), or a nest starting with one, such as an expression
// ('rejected attribute type 1 ("lookup")').
std::string rejected_attr(std::span<const char> msg, std::uint32_t offset) {
    if (auto name = string_attr(msg, offset)) {
        return "rejected \"" + *name + '"';
    }
    if (offset + sizeof(nlattr) > msg.size()) {
        return "rejected attribute at offset " + std::to_string(offset);
    }
    nlattr attr{};
    std::memcpy(&attr, msg.data() + offset, sizeof attr);
    std::string out = "rejected attribute type " + std::to_string(attr.nla_type & NLA_TYPE_MASK);
    if (auto first =
            string_attr(msg.first(std::min(msg.size(), offset + std::size_t{attr.nla_len})),
                        offset + sizeof attr)) {
        out += " (\"" + *first + "\")";
    }
    return out;
}

// The kernel's message and the rejected attribute from an extended ack (NETLINK_EXT_ACK).
std::string ext_ack(const nlmsghdr* nlh, const nlmsgerr* err, const Replies& r) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
        return {};
    }
    unsigned offset = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
        offset += err->msg.nlmsg_len - static_cast<unsigned>(sizeof(nlmsghdr));
    }

    struct Found {
        std::string msg;
        std::optional<std::uint32_t> offs;
    } found;

    auto cb = [](const nlattr* attr, void* data) -> int {
        auto* f = static_cast<Found*>(data);
        auto type = mnl_attr_get_type(attr);
        if (type == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
            f->msg = mnl_attr_get_str(attr);
        } else if (type == NLMSGERR_ATTR_OFFS && mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
            f->offs = mnl_attr_get_u32(attr);
        }
        return MNL_CB_OK;
    };
    mnl_attr_parse(nlh, offset, cb, &found);
    std::string out = found.msg;
    if (found.offs && r.sent) {
        out += (out.empty() ? "" : ", ") + rejected_attr(r.sent(nlh->nlmsg_seq), *found.offs);
    }
    return out;
}

int on_error(const nlmsghdr* nlh, void* data) {
    auto* r = static_cast<Replies*>(data);
    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)) || !r->wanted(nlh->nlmsg_seq)) {
        return MNL_CB_OK;
    }
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    r->acks.push_back({nlh->nlmsg_seq, -err->error, ext_ack(nlh, err, *r)});
    return MNL_CB_OK;
}

int on_done(const nlmsghdr* nlh, void* data) {
    auto* r = static_cast<Replies*>(data);
    if (!r->wanted(nlh->nlmsg_seq)) {
        return MNL_CB_OK;
    }
    int code = 0;
    if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
        code = -*static_cast<const int*>(mnl_nlmsg_get_payload(nlh));
    }
    r->acks.push_back({nlh->nlmsg_seq, code, {}});
    return MNL_CB_OK;
}

int on_data(const nlmsghdr* nlh, void* data) {
    auto* r = static_cast<Replies*>(data);
    if (r->wanted(nlh->nlmsg_seq) && r->on_data) {
        r->on_data(nlh);
    }
    return MNL_CB_OK;
}

int on_ignore(const nlmsghdr*, void*) {
    return MNL_CB_OK;
}

}  // namespace

void NftSocket::Impl::ensure_sndbuf(std::size_t len) {
    // netlink refuses a datagram larger than the send buffer; big batches need a bigger one.
    if (static_cast<std::size_t>(sndbuf) >= len) {
        return;
    }
    int want = static_cast<int>(std::min<std::size_t>(len + 4096, 1U << 30));
    if (setsockopt(fd(), SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want) != 0) {
        check_errno(setsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &want, sizeof want), "setsockopt",
                    "SO_SNDBUF");
    }
    sndbuf = want;
}

std::size_t NftSocket::Impl::recv_one(const std::string& object) {
    sockaddr_nl addr{};
    iovec iov{rbuf.data(), rbuf.size()};
    msghdr msg{};
    msg.msg_name = &addr;
    msg.msg_namelen = sizeof addr;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    for (;;) {
        ssize_t n = recvmsg(fd(), &msg, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            // ENOBUFS: replies were lost, so the outcome is unknown to us.
            throw Error(errno == EAGAIN ? ETIMEDOUT : errno, "recv nftables reply", object);
        }
        if (msg.msg_flags & MSG_TRUNC) {
            throw Error(EMSGSIZE, "recv nftables reply", object, "truncated");
        }
        if (addr.nl_pid != 0) {
            continue;  // not from the kernel
        }
        return static_cast<std::size_t>(n);
    }
}

void NftSocket::Impl::dispatch(std::size_t len, Replies& replies, const std::string& object) {
    // libmnl aborts the parse at the first NLM_F_DUMP_INTR part, which would leave the rest of
    // the dump queued (and the next dump request failing with EBUSY). Note the flag, clear it,
    // read the dump to its end, and let the caller retry.
    int left = static_cast<int>(len);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
            replies.interrupted = replies.interrupted || replies.wanted(nlh->nlmsg_seq);
            nlh->nlmsg_flags &= static_cast<std::uint16_t>(~NLM_F_DUMP_INTR);
        }
    }
    mnl_cb_t ctl[NLMSG_MIN_TYPE] = {};
    std::fill(std::begin(ctl), std::end(ctl), &on_ignore);
    ctl[NLMSG_ERROR] = &on_error;
    ctl[NLMSG_DONE] = &on_done;
    // seq 0: we filter sequence numbers ourselves, so a stale reply cannot abort the parse.
    if (mnl_cb_run2(rbuf.data(), len, 0, portid, &on_data, &replies, ctl, NLMSG_MIN_TYPE) < 0) {
        throw Error(errno, "parse nftables reply", object);
    }
}

std::vector<char> NftSocket::Impl::build(std::uint16_t type, NftFamily family, std::uint16_t flags,
                                         std::size_t bound,
                                         const std::function<void(nlmsghdr*)>& payload) {
    std::vector<char> msg(bound);
    auto* nlh = nftnl_nlmsg_build_hdr(msg.data(), type, nfproto(family), flags, ++seq);
    payload(nlh);
    if (nlh->nlmsg_len > bound) {
        std::abort();  // libnftnl wrote past the reserved space
    }
    msg.resize(nlh->nlmsg_len);
    return msg;
}

Ack NftSocket::Impl::request(std::vector<char>& msg, const std::string& op,
                             const std::string& object,
                             std::function<void(const nlmsghdr*)> on_data) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg.data());
    Replies replies;
    replies.lo = replies.hi = nlh->nlmsg_seq;
    replies.on_data = std::move(on_data);
    replies.sent = [&msg](std::uint32_t) { return std::span<const char>(msg); };
    ensure_sndbuf(msg.size());
    check_errno(mnl_socket_sendto(nl.get(), msg.data(), msg.size()), "send " + op, object);
    while (replies.acks.empty()) {
        dispatch(recv_one(object), replies, object);
    }
    Ack ack = replies.acks.front();
    if (ack.code == 0 && replies.interrupted) {
        ack = {ack.seq, EINTR, "dump interrupted by a concurrent change"};
    }
    return ack;
}

NftSocket::NftSocket() : impl_(std::make_unique<Impl>()) {
    impl_->nl.reset(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
    if (!impl_->nl) {
        int err = errno;
        throw Error(err, "socket", "NETLINK_NETFILTER",
                    err == EPROTONOSUPPORT ? "this kernel has no nftables" : "");
    }
    check_errno(mnl_socket_bind(impl_->nl.get(), 0, MNL_SOCKET_AUTOPID), "bind",
                "NETLINK_NETFILTER");
    impl_->portid = mnl_socket_get_portid(impl_->nl.get());
    impl_->seq = static_cast<std::uint32_t>(time(nullptr));
    int one = 1;
    // Best effort: older kernels lack extended acks; capped acks keep error reports small.
    mnl_socket_setsockopt(impl_->nl.get(), NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(impl_->nl.get(), NETLINK_CAP_ACK, &one, sizeof one);
    int rcvbuf = kRcvBufBytes;
    if (setsockopt(impl_->fd(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
        setsockopt(impl_->fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    timeval timeout{10, 0};  // a kernel reply is immediate; never hang a CNI call forever
    setsockopt(impl_->fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

std::optional<NftSocket> NftSocket::if_kernel_has_nftables() {
    try {
        return NftSocket{};
    } catch (const Error& e) {
        if (e.code() == EPROTONOSUPPORT) {
            return std::nullopt;
        }
        throw;
    }
}

NftSocket::~NftSocket() = default;
NftSocket::NftSocket(NftSocket&&) noexcept = default;
NftSocket& NftSocket::operator=(NftSocket&&) noexcept = default;

namespace {
constexpr std::size_t kMarkerLen = NLMSG_ALIGN(NLMSG_HDRLEN + sizeof(nfgenmsg));  // begin/end
// The begin marker with its optional NFNL_BATCH_GENID attribute.
constexpr std::size_t kBeginMaxLen = kMarkerLen + MNL_ATTR_HDRLEN + sizeof(std::uint32_t);
}  // namespace

// The framed transaction: BATCH_BEGIN, the messages with their sequence numbers, BATCH_END.
std::vector<char> NftSocket::frame(const NftBatch& batch, std::uint32_t begin,
                                   std::optional<std::uint32_t> generation) {
    const auto& b = *batch.impl_;
    std::vector<char> out(b.buf.size() + kBeginMaxLen + kMarkerLen);
    auto* nlh = nftnl_batch_begin(out.data(), begin);
    if (NLMSG_ALIGN(nlh->nlmsg_len) != kMarkerLen) {
        std::abort();  // libnftnl's marker format changed
    }
    if (generation) {
        // The kernel compares it with its generation under the commit mutex (ERESTART if not).
        mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(*generation));
    }
    std::size_t pos = NLMSG_ALIGN(nlh->nlmsg_len);
    std::copy(b.buf.begin(), b.buf.end(), out.begin() + static_cast<std::ptrdiff_t>(pos));
    for (std::size_t i = 0; i < b.msgs.size(); ++i) {
        auto* msg = reinterpret_cast<nlmsghdr*>(out.data() + pos + b.msgs[i].offset);
        msg->nlmsg_seq = begin + 1 + static_cast<std::uint32_t>(i);
        if (i + 1 == b.msgs.size()) {
            msg->nlmsg_flags |= NLM_F_ACK;  // its ack closes the batch (see the file comment)
        }
    }
    pos += b.buf.size();
    nlh = nftnl_batch_end(out.data() + pos, begin + static_cast<std::uint32_t>(b.msgs.size()) + 1);
    out.resize(pos + NLMSG_ALIGN(nlh->nlmsg_len));
    return out;
}

void NftSocket::commit(const NftBatch& batch, std::optional<std::uint32_t> generation) {
    const auto& b = *batch.impl_;
    if (b.msgs.empty()) {
        return;
    }
    auto n = static_cast<std::uint32_t>(b.msgs.size());
    std::uint32_t begin = impl_->seq + 1;
    std::uint32_t end = begin + n + 1;
    impl_->seq = end;
    auto out = frame(batch, begin, generation);
    const std::size_t begin_len = NLMSG_ALIGN(reinterpret_cast<nlmsghdr*>(out.data())->nlmsg_len);
    const std::string what = "nftables transaction";
    impl_->ensure_sndbuf(out.size());
    check_errno(mnl_socket_sendto(impl_->nl.get(), out.data(), out.size()), "send", what);

    Replies replies;
    replies.lo = begin;
    replies.hi = end;
    replies.sent = [&](std::uint32_t seq) {
        // Message seq sits after the begin marker, at its offset in the batch buffer.
        if (seq == begin || seq == end) {
            return std::span<const char>();
        }
        const auto& m = b.msgs[seq - begin - 1];
        return std::span<const char>(out).subspan(begin_len + m.offset, m.len);
    };
    auto closed = [&] {
        return std::any_of(replies.acks.begin(), replies.acks.end(), [&](const Ack& a) {
            return a.seq == end - 1 || ((a.seq == begin || a.seq == end) && a.code != 0);
        });
    };
    while (!closed()) {
        impl_->dispatch(impl_->recv_one(what), replies, what);
    }
    std::vector<NftFailure> failures;
    for (const auto& a : replies.acks) {
        if (a.code == 0) {
            continue;
        }
        if (a.seq == begin || a.seq == end) {
            failures.push_back({kNftWholeBatch, a.code, "NFNL_MSG_BATCH", what, a.detail});
        } else {
            std::size_t op = b.msgs[a.seq - begin - 1].op;
            failures.push_back({op, a.code, b.ops[op].op, b.ops[op].object, a.detail});
        }
    }
    if (!failures.empty()) {
        throw NftBatchError(std::move(failures));
    }
}

namespace {

Error first_failure(const std::vector<NftFailure>& failures) {
    if (failures.empty()) {
        return Error(EPROTO, "nftables transaction", {}, "rejected without a reason");
    }
    const auto& f = failures.front();
    std::string detail = f.detail;
    if (failures.size() > 1) {
        detail += (detail.empty() ? "" : "; ") + std::to_string(failures.size() - 1) +
                  " more failed message(s)";
    }
    return Error(f.code, f.op, f.object, detail);
}

}  // namespace

bool nft_generation_changed(const NftBatchError& err) noexcept {
    return err.failures().size() == 1 && err.failures().front().index == kNftWholeBatch &&
           err.failures().front().code == ERESTART;
}

NftBatchError::NftBatchError(std::vector<NftFailure> failures)
    : Error(first_failure(failures)), failures_(std::move(failures)) {}

const NftFailure* NftBatchError::find(std::size_t index) const noexcept {
    auto it = std::find_if(failures_.begin(), failures_.end(),
                           [index](const NftFailure& f) { return f.index == index; });
    return it == failures_.end() ? nullptr : &*it;
}

}  // namespace netlib
