#pragma once

// Private to netlib: conversions between the value types of nft_rule.hpp and libnftnl objects,
// shared by nft_batch.cpp (building messages) and nft_socket.cpp (reading replies).

#include <cstddef>
#include <cstdint>
#include <cstdio>  // libnftnl's headers use FILE without including it
#include <string>
#include <vector>

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "netlib/c_ptr.hpp"
#include "netlib/nft_rule.hpp"

namespace netlib::nft_detail {

using TablePtr = CPtr<nftnl_table, &nftnl_table_free>;
using ChainPtr = CPtr<nftnl_chain, &nftnl_chain_free>;
using SetPtr = CPtr<nftnl_set, &nftnl_set_free>;
using ElemPtr = CPtr<nftnl_set_elem, &nftnl_set_elem_free>;
using RulePtr = CPtr<nftnl_rule, &nftnl_rule_free>;

// The kernel caps every userdata attribute at NFT_USERDATA_MAXLEN (256) bytes; a comment
// needs 3 of them for its TLV header and terminating NUL.
inline constexpr std::size_t kMaxComment = 252;

std::uint16_t nfproto(NftFamily family) noexcept;

// "inet sdnet_masq", "inet sdnet_masq postrouting", ...
std::string describe(const NftTableRef& table);
std::string describe(const NftTableRef& table, const std::string& name);
std::string describe_elems(const NftSet& set, const std::vector<NftElem>& elems);

// nft's comment userdata (one NFTNL_UDATA_*_COMMENT TLV) and back; "" if there is none.
std::vector<std::uint8_t> encode_comment(const std::string& comment);
std::string decode_comment(const void* data, std::uint32_t len);

// A libnftnl set naming `set` (table, name, family) and carrying `elems`.
SetPtr elems_to_nftnl(const NftSet& set, const std::vector<NftElem>& elems, bool keys_only);
// A libnftnl rule with the rule's expressions and comment.
RulePtr rule_to_nftnl(const NftRule& rule);
// Collects the elements libnftnl parsed into `set`.
std::vector<NftElem> elems_from_nftnl(nftnl_set* set);

// An upper bound of the netlink message size libnftnl will write for these objects. libnftnl
// writes without bounds checks, so the buffer must be reserved before building.
std::size_t max_msg_len(const NftSet& set, const std::vector<NftElem>& elems);
std::size_t max_elem_len(const NftElem& elem);
std::size_t max_msg_len(const NftRule& rule);

}  // namespace netlib::nft_detail
