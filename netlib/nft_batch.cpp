// NftBatch: builds the netlink messages of one nftables transaction with libnftnl. Sequence
// numbers and the batch begin/end markers are added by NftSocket::commit.

#include <cstdlib>
#include <new>

#include <libmnl/libmnl.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "netlib/nft.hpp"
#include "netlib/nft_batch_internal.hpp"
#include "netlib/nft_msg_internal.hpp"

namespace netlib {

using namespace nft_detail;

namespace {

std::uint32_t hooknum(NftHook hook) noexcept {
    switch (hook) {
        case NftHook::Prerouting:
            return NF_INET_PRE_ROUTING;
        case NftHook::Input:
            return NF_INET_LOCAL_IN;
        case NftHook::Forward:
            return NF_INET_FORWARD;
        case NftHook::Output:
            return NF_INET_LOCAL_OUT;
        case NftHook::Postrouting:
            return NF_INET_POST_ROUTING;
        case NftHook::Ingress:
            return NF_NETDEV_INGRESS;
    }
    return NF_INET_PRE_ROUTING;
}

const char* chain_type(NftChainType type) noexcept {
    switch (type) {
        case NftChainType::Filter:
            return "filter";
        case NftChainType::Nat:
            return "nat";
        case NftChainType::Route:
            return "route";
    }
    return "filter";
}

std::uint16_t create_flags(NftCreate create) noexcept {
    return create == NftCreate::Exclusive ? NLM_F_CREATE | NLM_F_EXCL : NLM_F_CREATE;
}

// nft encodes the type of a concatenation as the component ids, 6 bits each.
std::uint32_t type_id(const std::vector<NftType>& types) noexcept {
    std::uint32_t type = 0;
    for (auto t : types) {
        type = (type << 6) | static_cast<std::uint32_t>(t);
    }
    return type;
}

TablePtr table_to_nftnl(const NftTableRef& table) {
    TablePtr t{nftnl_table_alloc()};
    if (!t) {
        throw std::bad_alloc();
    }
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.name.c_str());
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, nfproto(table.family));
    return t;
}

ChainPtr chain_to_nftnl(const NftChain& chain, bool with_hook) {
    ChainPtr c{nftnl_chain_alloc()};
    if (!c) {
        throw std::bad_alloc();
    }
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, chain.table.name.c_str());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, nfproto(chain.table.family));
    if (with_hook && chain.base) {
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, chain_type(chain.base->type));
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hooknum(chain.base->hook));
        nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, chain.base->priority);
        nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY,
                            chain.base->policy_accept ? NF_ACCEPT : NF_DROP);
    }
    return c;
}

// nft reads the byte order of a plain set's key from the set's userdata; without it, it prints
// interface names reversed (as ""). Values: nft's BYTEORDER_HOST_ENDIAN and _BIG_ENDIAN.
void set_key_byteorder(nftnl_set* s, NftType type) {
    using UdataPtr = CPtr<nftnl_udata_buf, &nftnl_udata_buf_free>;
    bool host = type == NftType::Ifname || type == NftType::Mark;
    UdataPtr buf{nftnl_udata_buf_alloc(16)};
    if (!buf || !nftnl_udata_put_u32(buf.get(), NFTNL_UDATA_SET_KEYBYTEORDER, host ? 1 : 2)) {
        throw std::bad_alloc();
    }
    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(buf.get()),
                       nftnl_udata_buf_len(buf.get()));
}

SetPtr set_to_nftnl(const NftSet& set, std::uint32_t id) {
    SetPtr s{nftnl_set_alloc()};
    if (!s) {
        throw std::bad_alloc();
    }
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, set.table.name.c_str());
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.name.c_str());
    nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, nfproto(set.table.family));
    nftnl_set_set_u32(s.get(), NFTNL_SET_ID, id);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, type_id(set.key));
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, static_cast<std::uint32_t>(set.key_len()));
    std::uint32_t flags = set.interval ? NFT_SET_INTERVAL : 0;
    if (set.key.size() == 1) {
        set_key_byteorder(s.get(), set.key.front());
    }
    if (set.interval && set.key.size() > 1) {
        // Concatenated ranges need the field lengths (the kernel then picks the pipapo
        // backend); the kernel rejects them for sets without NFT_SET_CONCAT.
        std::vector<std::uint8_t> fields;
        for (auto t : set.key) {
            fields.push_back(static_cast<std::uint8_t>(nft_type_len(t)));
        }
        nftnl_set_set_data(s.get(), NFTNL_SET_DESC_CONCAT, fields.data(),
                           static_cast<std::uint32_t>(fields.size()));
        flags |= NFT_SET_CONCAT;
    }
    if (!set.data.empty()) {
        flags |= NFT_SET_MAP;
        if (set.data == std::vector<NftType>{NftType::Verdict}) {
            nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
        } else {
            nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE, type_id(set.data));
            nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_LEN,
                              static_cast<std::uint32_t>(set.data_len()));
        }
    }
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, flags);
    return s;
}

}  // namespace

std::size_t NftBatch::Impl::begin_op(std::string op, std::string object) {
    ops.push_back({std::move(op), std::move(object)});
    return ops.size() - 1;
}

nlmsghdr* NftBatch::Impl::start(std::uint16_t type, NftFamily family, std::uint16_t flags,
                                std::size_t bound) {
    std::size_t offset = buf.size();
    buf.resize(offset + bound);
    msgs.push_back({offset, bound, ops.size() - 1});
    return nftnl_nlmsg_build_hdr(buf.data() + offset, type, nfproto(family), flags, 0);
}

void NftBatch::Impl::finish(const nlmsghdr* nlh) {
    auto& msg = msgs.back();
    std::size_t len = NLMSG_ALIGN(nlh->nlmsg_len);
    if (len > msg.len) {
        std::abort();  // libnftnl wrote past the reserved space: max_msg_len is wrong
    }
    msg.len = len;
    buf.resize(msg.offset + len);
}

NftBatch::NftBatch() : impl_(std::make_unique<Impl>()) {}

NftBatch::~NftBatch() = default;
NftBatch::NftBatch(NftBatch&&) noexcept = default;
NftBatch& NftBatch::operator=(NftBatch&&) noexcept = default;

std::size_t NftBatch::Impl::single(std::uint16_t type, NftFamily family, std::uint16_t flags,
                                   std::size_t bound, std::string op, std::string object,
                                   const std::function<void(nlmsghdr*)>& payload) {
    std::size_t index = begin_op(std::move(op), std::move(object));
    auto* nlh = start(type, family, flags, bound);
    payload(nlh);
    finish(nlh);
    return index;
}

void NftBatch::Impl::elements(std::uint16_t type, const NftSet& set,
                              const std::vector<NftElem>& elems, std::uint16_t flags,
                              bool keys_only) {
    constexpr std::size_t kMaxMsg =
        std::size_t{48} * 1024;  // bounds overestimate; nla_len is 16 bits
    for (std::size_t i = 0; i < elems.size();) {
        std::size_t j = i;
        std::size_t bound = max_msg_len(set, {});
        while (j < elems.size() && (j == i || bound + max_elem_len(elems[j]) <= kMaxMsg)) {
            bound += max_elem_len(elems[j++]);
        }
        std::vector<NftElem> chunk(elems.begin() + static_cast<std::ptrdiff_t>(i),
                                   elems.begin() + static_cast<std::ptrdiff_t>(j));
        auto s = elems_to_nftnl(set, chunk, keys_only);
        auto* nlh = start(type, set.table.family, flags, max_msg_len(set, chunk));
        nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
        finish(nlh);
        i = j;
    }
}

std::size_t NftBatch::add_table(const NftTableRef& table, NftCreate create) {
    auto t = table_to_nftnl(table);
    return impl_->single(NFT_MSG_NEWTABLE, table.family, create_flags(create),
                         512 + table.name.size(), "NFT_MSG_NEWTABLE", describe(table),
                         [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, t.get()); });
}

std::size_t NftBatch::del_table(const NftTableRef& table) {
    auto t = table_to_nftnl(table);
    return impl_->single(NFT_MSG_DELTABLE, table.family, 0, 512 + table.name.size(),
                         "NFT_MSG_DELTABLE", describe(table),
                         [&](nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, t.get()); });
}

std::size_t NftBatch::add_chain(const NftChain& chain, NftCreate create) {
    auto c = chain_to_nftnl(chain, true);
    return impl_->single(NFT_MSG_NEWCHAIN, chain.table.family, create_flags(create),
                         512 + chain.table.name.size() + chain.name.size(), "NFT_MSG_NEWCHAIN",
                         describe(chain.table, chain.name),
                         [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, c.get()); });
}

std::size_t NftBatch::del_chain(const NftChain& chain) {
    auto c = chain_to_nftnl(chain, false);
    return impl_->single(NFT_MSG_DELCHAIN, chain.table.family, 0,
                         512 + chain.table.name.size() + chain.name.size(), "NFT_MSG_DELCHAIN",
                         describe(chain.table, chain.name),
                         [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, c.get()); });
}

std::size_t NftBatch::add_set(const NftSet& set, NftCreate create) {
    auto s = set_to_nftnl(set, static_cast<std::uint32_t>(size() + 1));
    return impl_->single(NFT_MSG_NEWSET, set.table.family, create_flags(create),
                         512 + set.table.name.size() + set.name.size(), "NFT_MSG_NEWSET",
                         describe(set.table, set.name),
                         [&](nlmsghdr* nlh) { nftnl_set_nlmsg_build_payload(nlh, s.get()); });
}

std::size_t NftBatch::del_set(const NftSet& set) {
    auto s = set_to_nftnl(set, 0);
    return impl_->single(NFT_MSG_DELSET, set.table.family, 0,
                         512 + set.table.name.size() + set.name.size(), "NFT_MSG_DELSET",
                         describe(set.table, set.name),
                         [&](nlmsghdr* nlh) { nftnl_set_nlmsg_build_payload(nlh, s.get()); });
}

std::size_t NftBatch::add_elements(const NftSet& set, std::span<const NftElem> elems,
                                   NftCreate create) {
    std::vector<NftElem> list(elems.begin(), elems.end());
    std::size_t index = impl_->begin_op("NFT_MSG_NEWSETELEM", describe_elems(set, list));
    impl_->elements(NFT_MSG_NEWSETELEM, set, list, create_flags(create), false);
    return index;
}

std::size_t NftBatch::del_elements(const NftSet& set, std::span<const NftElem> elems) {
    std::vector<NftElem> list(elems.begin(), elems.end());
    std::size_t index = impl_->begin_op("NFT_MSG_DELSETELEM", describe_elems(set, list));
    impl_->elements(NFT_MSG_DELSETELEM, set, list, 0, true);
    return index;
}

std::size_t NftBatch::add_rule(const NftRule& rule) {
    auto r = rule_to_nftnl(rule);
    std::string object = describe(rule.table(), rule.chain()) + " rule";
    if (!rule.comment().empty()) {
        object += " \"" + rule.comment() + '"';
    }
    return impl_->single(NFT_MSG_NEWRULE, rule.table().family, NLM_F_CREATE | NLM_F_APPEND,
                         max_msg_len(rule), "NFT_MSG_NEWRULE", std::move(object),
                         [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, r.get()); });
}

std::size_t NftBatch::del_rule(const NftTableRef& table, const std::string& chain,
                               std::uint64_t handle) {
    RulePtr r{nftnl_rule_alloc()};
    if (!r) {
        throw std::bad_alloc();
    }
    nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.name.c_str());
    nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
    nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, nfproto(table.family));
    nftnl_rule_set_u64(r.get(), NFTNL_RULE_HANDLE, handle);
    return impl_->single(NFT_MSG_DELRULE, table.family, 0, 512 + table.name.size() + chain.size(),
                         "NFT_MSG_DELRULE",
                         describe(table, chain) + " rule handle " + std::to_string(handle),
                         [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, r.get()); });
}

std::size_t NftBatch::size() const noexcept {
    return impl_->ops.size();
}

const std::string& NftBatch::op(std::size_t index) const {
    return impl_->ops.at(index).op;
}

const std::string& NftBatch::object(std::size_t index) const {
    return impl_->ops.at(index).object;
}

}  // namespace netlib
