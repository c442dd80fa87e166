#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>

// GC (CNI 1.1) input shared by every plugin: the list of attachments that are still valid, and
// the one rule that decides whether a piece of state is stale.
namespace cni {

// Who owns a piece of plugin state: an attachment of a network (SPEC.md section 3 identifies an
// attachment by (CNI_CONTAINERID, CNI_IFNAME); state is kept per network).
struct Attachment {
    std::string network;
    std::string container_id;
    std::string ifname;

    auto operator<=>(const Attachment&) const = default;
};

// The top-level "cni.dev/valid-attachments" of a GC request (or the spec-v1.1.0 spelling
// "cni.dev/attachments", which libcni also sends; the corrected key wins). SPEC.md gives every
// entry two strings, "containerID" and "ifname", the values of ADD's CNI_CONTAINERID and
// CNI_IFNAME; both are required and non-empty, since an ADD without either never happened. A
// list that is not that is invalid configuration (code 7) and GC removes nothing: guessing
// which attachment an incomplete entry meant could cut off a live container.
class ValidAttachments {
public:
    // nullopt when neither key is present: cnitool sends GC without a list, and reading absence
    // as "nothing is valid" would wipe every attachment of the network, so plugins then remove
    // nothing. An explicitly empty list means no attachment is valid. Throws cni::Error(7)
    // naming the offending entry.
    static std::optional<ValidAttachments> parse(const nlohmann::json& config);

    // The network the GC is for (the request's "name").
    const std::string& network() const noexcept { return network_; }

    // Whether `owner`'s state must be kept. State of other networks is never this GC's to
    // judge. An owner without an ifname (host-local's legacy "<containerID>" reservation files)
    // is live while any attachment of its container is.
    bool is_live(const Attachment& owner) const;

    // The listed (container id, ifname) pairs, for the netlib GC functions; every ifname is
    // non-empty, so exact matching there is the rule of is_live().
    const std::set<std::pair<std::string, std::string>>& pairs() const noexcept { return listed_; }

private:
    std::string network_;
    std::set<std::pair<std::string, std::string>> listed_;
};

}  // namespace cni
