// NftSocket's read-back requests: set elements (dump or single key), chain existence and the
// ruleset generation.

#include <cerrno>
#include <cstdio>
#include <iterator>
#include <new>

#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "netlib/nft.hpp"
#include "netlib/nft_msg_internal.hpp"
#include "netlib/nft_socket_internal.hpp"

namespace netlib {

using namespace nft_detail;

namespace {

constexpr int kDumpAttempts = 5;  // like iproute2 and CNI on NLM_F_DUMP_INTR

}  // namespace

std::optional<std::vector<NftElem>> NftSocket::list_elements(const NftSet& set) {
    const std::string op = "NFT_MSG_GETSETELEM";
    const std::string object = describe(set.table, set.name);
    for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
        auto s = elems_to_nftnl(set, {}, true);
        auto msg =
            impl_->build(NFT_MSG_GETSETELEM, set.table.family, NLM_F_DUMP, max_msg_len(set, {}),
                         [&](nlmsghdr* nlh) { nftnl_set_elems_nlmsg_build_payload(nlh, s.get()); });
        std::vector<NftElem> out;
        int parse_errors = 0;
        auto ack = impl_->request(msg, op, object, [&](const nlmsghdr* nlh) {
            SetPtr parsed{nftnl_set_alloc()};
            if (!parsed || nftnl_set_elems_nlmsg_parse(nlh, parsed.get()) < 0) {
                ++parse_errors;
                return;
            }
            auto elems = elems_from_nftnl(parsed.get());
            std::move(elems.begin(), elems.end(), std::back_inserter(out));
        });
        if (ack.code == EINTR) {
            continue;
        }
        if (ack.code == ENOENT) {
            return std::nullopt;
        }
        if (ack.code != 0 || parse_errors != 0) {
            throw Error(ack.code ? ack.code : EBADMSG, op, object, ack.detail);
        }
        return out;
    }
    throw Error(EAGAIN, op, object, "dump kept being interrupted by concurrent changes");
}

std::optional<NftElem> NftSocket::get_element(const NftSet& set, const NftBytes& key) {
    const std::string op = "NFT_MSG_GETSETELEM";
    std::vector<NftElem> keys{NftElem{key, {}, {}, {}, {}, false}};
    const std::string object = describe_elems(set, keys);
    auto s = elems_to_nftnl(set, keys, true);
    auto msg =
        impl_->build(NFT_MSG_GETSETELEM, set.table.family, NLM_F_ACK, max_msg_len(set, keys),
                     [&](nlmsghdr* nlh) { nftnl_set_elems_nlmsg_build_payload(nlh, s.get()); });
    std::optional<NftElem> found;
    auto ack = impl_->request(msg, op, object, [&](const nlmsghdr* nlh) {
        SetPtr parsed{nftnl_set_alloc()};
        if (parsed && nftnl_set_elems_nlmsg_parse(nlh, parsed.get()) >= 0) {
            auto elems = elems_from_nftnl(parsed.get());
            if (!elems.empty()) {
                found = std::move(elems.front());
            }
        }
    });
    if (ack.code == ENOENT) {
        return std::nullopt;
    }
    if (ack.code != 0) {
        throw Error(ack.code, op, object, ack.detail);
    }
    return found;
}

std::uint32_t NftSocket::generation() {
    const std::string op = "NFT_MSG_GETGEN";
    const std::string object = "ruleset generation";
    auto msg = impl_->build(NFT_MSG_GETGEN, NftFamily::Inet, NLM_F_ACK, 64, [](nlmsghdr*) {});
    std::optional<std::uint32_t> gen;
    auto ack = impl_->request(msg, op, object, [&](const nlmsghdr* nlh) {
        auto cb = [](const nlattr* attr, void* data) -> int {
            if (mnl_attr_get_type(attr) == NFTA_GEN_ID &&
                mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
                *static_cast<std::optional<std::uint32_t>*>(data) = ntohl(mnl_attr_get_u32(attr));
            }
            return MNL_CB_OK;
        };
        mnl_attr_parse(nlh, sizeof(nfgenmsg), cb, &gen);
    });
    if (ack.code != 0 || !gen) {
        throw Error(ack.code ? ack.code : EBADMSG, op, object, ack.detail);
    }
    return *gen;
}

bool NftSocket::has_chain(const NftChain& chain) {
    const std::string op = "NFT_MSG_GETCHAIN";
    const std::string object = describe(chain.table, chain.name);
    ChainPtr c{nftnl_chain_alloc()};
    if (!c) {
        throw std::bad_alloc();
    }
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, chain.table.name.c_str());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
    auto msg = impl_->build(NFT_MSG_GETCHAIN, chain.table.family, NLM_F_ACK, 512 + object.size(),
                            [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, c.get()); });
    auto ack = impl_->request(msg, op, object, {});
    if (ack.code != 0 && ack.code != ENOENT) {
        throw Error(ack.code, op, object, ack.detail);
    }
    return ack.code == 0;
}

}  // namespace netlib
