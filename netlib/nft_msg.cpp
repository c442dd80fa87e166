// Conversions between netlib's nft value types and libnftnl objects (nft_msg_internal.hpp).

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <type_traits>

#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include "netlib/error.hpp"
#include "netlib/nft_msg_internal.hpp"

namespace netlib::nft_detail {
namespace {

using ExprPtr = CPtr<nftnl_expr, &nftnl_expr_free>;
using UdataPtr = CPtr<nftnl_udata_buf, &nftnl_udata_buf_free>;

std::uint32_t reg(NftReg r) noexcept {
    return static_cast<std::uint32_t>(r);
}

std::uint32_t meta_key(NftMetaKey key) noexcept {
    switch (key) {
        case NftMetaKey::Nfproto:
            return NFT_META_NFPROTO;
        case NftMetaKey::L4proto:
            return NFT_META_L4PROTO;
        case NftMetaKey::Iifname:
            return NFT_META_IIFNAME;
        case NftMetaKey::Oifname:
            return NFT_META_OIFNAME;
        case NftMetaKey::Iif:
            return NFT_META_IIF;
        case NftMetaKey::Oif:
            return NFT_META_OIF;
        case NftMetaKey::Mark:
            return NFT_META_MARK;
    }
    return NFT_META_LEN;
}

std::uint32_t payload_base(NftPayloadBase base) noexcept {
    switch (base) {
        case NftPayloadBase::LinkLayer:
            return NFT_PAYLOAD_LL_HEADER;
        case NftPayloadBase::Network:
            return NFT_PAYLOAD_NETWORK_HEADER;
        case NftPayloadBase::Transport:
            return NFT_PAYLOAD_TRANSPORT_HEADER;
    }
    return NFT_PAYLOAD_NETWORK_HEADER;
}

std::uint32_t cmp_op(NftCmpOp op) noexcept {
    constexpr std::uint32_t kOps[] = {NFT_CMP_EQ,  NFT_CMP_NEQ, NFT_CMP_LT,
                                      NFT_CMP_LTE, NFT_CMP_GT,  NFT_CMP_GTE};
    return kOps[static_cast<std::size_t>(op)];
}

std::uint32_t verdict_code(NftVerdictKind kind) noexcept {
    switch (kind) {
        case NftVerdictKind::Accept:
            return NF_ACCEPT;
        case NftVerdictKind::Drop:
            return NF_DROP;
        case NftVerdictKind::Continue:
            return static_cast<std::uint32_t>(NFT_CONTINUE);
        case NftVerdictKind::Return:
            return static_cast<std::uint32_t>(NFT_RETURN);
        case NftVerdictKind::Jump:
            return static_cast<std::uint32_t>(NFT_JUMP);
        case NftVerdictKind::Goto:
            return static_cast<std::uint32_t>(NFT_GOTO);
    }
    return NF_ACCEPT;
}

NftVerdictKind verdict_kind(std::uint32_t code) noexcept {
    switch (static_cast<int>(code)) {
        case NF_DROP:
            return NftVerdictKind::Drop;
        case NFT_CONTINUE:
            return NftVerdictKind::Continue;
        case NFT_RETURN:
            return NftVerdictKind::Return;
        case NFT_JUMP:
            return NftVerdictKind::Jump;
        case NFT_GOTO:
            return NftVerdictKind::Goto;
        default:
            return NftVerdictKind::Accept;
    }
}

void set_bytes(nftnl_expr* e, std::uint16_t attr, const NftBytes& bytes) {
    nftnl_expr_set(e, attr, bytes.data(), static_cast<std::uint32_t>(bytes.size()));
}

// One overload per expression kind; each fills a freshly allocated libnftnl expression.
void fill(nftnl_expr* e, const NftMetaExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, meta_key(x.key));
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg(x.dreg));
}

void fill(nftnl_expr* e, const NftPayloadExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, payload_base(x.base));
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, x.offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, x.len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg(x.dreg));
}

void fill(nftnl_expr* e, const NftCmpExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, reg(x.sreg));
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, cmp_op(x.op));
    set_bytes(e, NFTNL_EXPR_CMP_DATA, x.data);
}

void fill(nftnl_expr* e, const NftBitwiseExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg(x.reg));
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg(x.reg));
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, static_cast<std::uint32_t>(x.mask.size()));
    set_bytes(e, NFTNL_EXPR_BITWISE_MASK, x.mask);
    set_bytes(e, NFTNL_EXPR_BITWISE_XOR, x.xor_bits);
}

void fill(nftnl_expr* e, const NftLookupExpr& x) {
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, x.set.c_str());
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, reg(x.sreg));
    if (x.dreg) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, reg(*x.dreg));
    }
    if (x.invert) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    }
}

void fill(nftnl_expr* e, const NftImmediateExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg(x.dreg));
    set_bytes(e, NFTNL_EXPR_IMM_DATA, x.data);
}

void fill(nftnl_expr* e, const NftVerdictExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict_code(x.verdict.kind));
    if (!x.verdict.chain.empty()) {
        nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, x.verdict.chain.c_str());
    }
}

void fill(nftnl_expr*, const NftMasqExpr&) {}

void fill(nftnl_expr*, const NftCounterExpr&) {}

void fill(nftnl_expr* e, const NftNatExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, x.dnat ? NFT_NAT_DNAT : NFT_NAT_SNAT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY,
                       x.family == Family::V4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg(x.addr));
    if (x.port) {
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg(*x.port));
    }
}

void fill(nftnl_expr* e, const NftCtExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY,
                       x.key == NftCtKey::State ? NFT_CT_STATE : NFT_CT_STATUS);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, reg(x.dreg));
}

void fill(nftnl_expr* e, const NftFibExpr& x) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS,
                       x.field == NftAddrField::Dst ? NFTA_FIB_F_DADDR : NFTA_FIB_F_SADDR);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, reg(x.dreg));
}

const char* expr_name(const NftExpr& expr) noexcept {
    constexpr const char* kNames[] = {"meta",    "payload",   "cmp",       "bitwise",
                                      "lookup",  "immediate", "immediate", "masq",
                                      "counter", "nat",       "ct",        "fib"};
    static_assert(std::size(kNames) == std::variant_size_v<NftExpr>);
    return kNames[expr.index()];
}

std::size_t expr_bytes(const NftExpr& expr) {
    return std::visit(
        [](const auto& x) -> std::size_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, NftCmpExpr> || std::is_same_v<T, NftImmediateExpr>) {
                return x.data.size();
            } else if constexpr (std::is_same_v<T, NftBitwiseExpr>) {
                return x.mask.size() + x.xor_bits.size();
            } else if constexpr (std::is_same_v<T, NftLookupExpr>) {
                return x.set.size();
            } else if constexpr (std::is_same_v<T, NftVerdictExpr>) {
                return x.verdict.chain.size();
            } else {
                return 0;
            }
        },
        expr);
}

NftElem elem_from(nftnl_set_elem* e) {
    auto bytes = [e](std::uint16_t attr) {
        std::uint32_t len = 0;
        const auto* p = static_cast<const std::uint8_t*>(nftnl_set_elem_get(e, attr, &len));
        return NftBytes(p, p + len);
    };
    NftElem elem;
    elem.key = bytes(NFTNL_SET_ELEM_KEY);
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
        elem.key_end = bytes(NFTNL_SET_ELEM_KEY_END);
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
        NftVerdict v{verdict_kind(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT)), {}};
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)) {
            v.chain = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
        }
        elem.verdict = std::move(v);
    } else if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)) {
        elem.data = bytes(NFTNL_SET_ELEM_DATA);
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)) {
        elem.interval_end =
            (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END) != 0;
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
        std::uint32_t len = 0;
        const void* p = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
        elem.comment = decode_comment(p, len);
    }
    return elem;
}

void set_elem_bytes(nftnl_set_elem* e, std::uint16_t attr, const NftBytes& bytes) {
    nftnl_set_elem_set(e, attr, bytes.data(), static_cast<std::uint32_t>(bytes.size()));
}

ElemPtr elem_to(const NftElem& elem, bool keys_only) {
    ElemPtr e{nftnl_set_elem_alloc()};
    if (!e) {
        throw std::bad_alloc();
    }
    set_elem_bytes(e.get(), NFTNL_SET_ELEM_KEY, elem.key);
    if (elem.key_end) {
        set_elem_bytes(e.get(), NFTNL_SET_ELEM_KEY_END, *elem.key_end);
    }
    if (elem.interval_end) {
        nftnl_set_elem_set_u32(e.get(), NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
    }
    if (keys_only) {
        return e;
    }
    if (elem.verdict) {
        nftnl_set_elem_set_u32(e.get(), NFTNL_SET_ELEM_VERDICT, verdict_code(elem.verdict->kind));
        if (!elem.verdict->chain.empty()) {
            nftnl_set_elem_set_str(e.get(), NFTNL_SET_ELEM_CHAIN, elem.verdict->chain.c_str());
        }
    } else if (elem.data) {
        set_elem_bytes(e.get(), NFTNL_SET_ELEM_DATA, *elem.data);
    }
    if (!elem.comment.empty()) {
        auto udata = encode_comment(elem.comment);
        nftnl_set_elem_set(e.get(), NFTNL_SET_ELEM_USERDATA, udata.data(),
                           static_cast<std::uint32_t>(udata.size()));
    }
    return e;
}

}  // namespace

std::uint16_t nfproto(NftFamily family) noexcept {
    switch (family) {
        case NftFamily::Inet:
            return NFPROTO_INET;
        case NftFamily::Ip:
            return NFPROTO_IPV4;
        case NftFamily::Ip6:
            return NFPROTO_IPV6;
        case NftFamily::Arp:
            return NFPROTO_ARP;
        case NftFamily::Bridge:
            return NFPROTO_BRIDGE;
        case NftFamily::Netdev:
            return NFPROTO_NETDEV;
    }
    return NFPROTO_UNSPEC;
}

std::string describe(const NftTableRef& table) {
    return std::string(to_string(table.family)) + ' ' + table.name;
}

std::string describe(const NftTableRef& table, const std::string& name) {
    return describe(table) + ' ' + name;
}

std::string describe_elems(const NftSet& set, const std::vector<NftElem>& elems) {
    constexpr std::size_t kShown = 3;
    std::string out =
        describe(set.table, set.name) + (elems.size() == 1 ? " element " : " elements ");
    for (std::size_t i = 0; i < elems.size() && i < kShown; ++i) {
        out += (i ? ", " : "") + nft_format_key(set, elems[i].key);
    }
    if (elems.size() > kShown) {
        out += ", ... (" + std::to_string(elems.size()) + ")";
    }
    return out;
}

std::vector<std::uint8_t> encode_comment(const std::string& comment) {
    // Comment is the first TLV type for every object kind (NFTNL_UDATA_*_COMMENT == 0).
    UdataPtr buf{nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)};
    if (!buf || !nftnl_udata_put_strz(buf.get(), NFTNL_UDATA_SET_ELEM_COMMENT, comment.c_str())) {
        throw Error(EMSGSIZE, "encode nft comment", comment, "longer than 252 bytes");
    }
    const auto* p = static_cast<const std::uint8_t*>(nftnl_udata_buf_data(buf.get()));
    return {p, p + nftnl_udata_buf_len(buf.get())};
}

std::string decode_comment(const void* data, std::uint32_t len) {
    std::string comment;
    auto cb = [](const nftnl_udata* attr, void* out) -> int {
        const auto* value = static_cast<const char*>(nftnl_udata_get(attr));
        std::uint8_t n = nftnl_udata_len(attr);
        if (nftnl_udata_type(attr) == NFTNL_UDATA_SET_ELEM_COMMENT && n > 0 && value[n - 1] == 0) {
            *static_cast<std::string*>(out) = value;
        }
        return 0;
    };
    nftnl_udata_parse(data, len, cb, &comment);
    return comment;
}

SetPtr elems_to_nftnl(const NftSet& set, const std::vector<NftElem>& elems, bool keys_only) {
    SetPtr s{nftnl_set_alloc()};
    if (!s) {
        throw std::bad_alloc();
    }
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, set.table.name.c_str());
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.name.c_str());
    nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, nfproto(set.table.family));
    for (const auto& elem : elems) {
        nftnl_set_elem_add(s.get(), elem_to(elem, keys_only).release());
    }
    return s;
}

std::vector<NftElem> elems_from_nftnl(nftnl_set* set) {
    std::vector<NftElem> out;
    auto cb = [](nftnl_set_elem* e, void* data) -> int {
        static_cast<std::vector<NftElem>*>(data)->push_back(elem_from(e));
        return 0;
    };
    nftnl_set_elem_foreach(set, cb, &out);
    return out;
}

RulePtr rule_to_nftnl(const NftRule& rule) {
    RulePtr r{nftnl_rule_alloc()};
    if (!r) {
        throw std::bad_alloc();
    }
    nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, rule.table().name.c_str());
    nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, rule.chain().c_str());
    nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, nfproto(rule.table().family));
    for (const auto& expr : rule.exprs()) {
        ExprPtr e{nftnl_expr_alloc(expr_name(expr))};
        if (!e) {
            throw std::bad_alloc();
        }
        std::visit([&e](const auto& x) { fill(e.get(), x); }, expr);
        nftnl_rule_add_expr(r.get(), e.release());
    }
    if (!rule.comment().empty()) {
        auto udata = encode_comment(rule.comment());
        nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, udata.data(),
                            static_cast<std::uint32_t>(udata.size()));
    }
    return r;
}

std::size_t max_elem_len(const NftElem& e) {
    // Generous: every attribute costs at most 8 bytes of header and 3 of padding, and no
    // element has more than 10 attributes (nests included).
    std::size_t len = 128 + 2 * (e.key.size() + e.comment.size());
    len += e.key_end ? e.key_end->size() : 0;
    len += e.data ? e.data->size() : 0;
    len += e.verdict ? e.verdict->chain.size() : 0;
    return len;
}

std::size_t max_msg_len(const NftSet& set, const std::vector<NftElem>& elems) {
    std::size_t len = 512 + set.table.name.size() + set.name.size();
    for (const auto& e : elems) {
        len += max_elem_len(e);
    }
    return len;
}

std::size_t max_msg_len(const NftRule& rule) {
    std::size_t len = 512 + rule.table().name.size() + rule.chain().size() + rule.comment().size();
    for (const auto& expr : rule.exprs()) {
        len += 160 + expr_bytes(expr);
    }
    return len;
}

}  // namespace netlib::nft_detail
