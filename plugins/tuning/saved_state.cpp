#include "plugins/tuning/saved_state.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "netlib/error.hpp"
#include "netlib/fd.hpp"
#include "plugins/cni/error.hpp"

namespace tuning {
namespace {

// Go's json.MarshalIndent keeps the struct's field order; nlohmann's ordered_json does too.
using ordered_json = nlohmann::ordered_json;
using nlohmann::json;

std::string to_text(const SavedState& s) {
    ordered_json j = ordered_json::object();
    if (s.mac) {
        j["mac"] = s.mac->to_string();
    }
    if (s.promisc) {
        j["promisc"] = *s.promisc;
    }
    if (s.mtu && *s.mtu != 0) {
        j["mtu"] = *s.mtu;
    }
    if (s.allmulti) {
        j["allmulti"] = *s.allmulti;
    }
    if (s.txqlen) {
        j["txQLen"] = *s.txqlen;
    }
    return j.dump(1);
}

template <class T>
std::optional<T> field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return std::nullopt;
    }
    return it->get<T>();
}

[[noreturn]] void io_error(const std::string& what, const std::string& path) {
    throw cni::Error(cni::Code::Io, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

std::string saved_state_path(const std::string& data_dir, const std::string& container_id,
                             const std::string& ifname) {
    return data_dir + "/" + container_id + "_" + ifname + ".json";
}

namespace {

// nullopt when the file does not exist.
std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    }
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Creates the directory (0700) if missing, then writes `text` (0600) under a temporary name
// renamed into place, so a crash never leaves half a file.
void write_atomically(const std::string& path, const std::string& text) {
    auto dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec)) {
        std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    if (ec) {
        throw cni::Error(cni::Code::Io, "cannot create " + dir.string() + ": " + ec.message());
    }
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (raw < 0) {
        io_error("cannot create", tmp);
    }
    netlib::Fd fd{raw};
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        int saved = errno;
        ::unlink(tmp.c_str());
        errno = saved;
        io_error("cannot write", tmp);
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(tmp.c_str());
        errno = saved;
        io_error("cannot rename to", path);
    }
}

}  // namespace

void write_saved_state(const std::string& path, const SavedState& state) {
    write_atomically(path, to_text(state));
}

std::string owner_path(const std::string& saved_path) {
    return saved_path + std::string{kOwnerSuffix};
}

void write_owner(const std::string& saved_path, const cni::Attachment& owner) {
    json j = {
        {"network", owner.network}, {"containerID", owner.container_id}, {"ifname", owner.ifname}};
    write_atomically(owner_path(saved_path), j.dump());
}

std::optional<cni::Attachment> read_owner(const std::string& owner_file) {
    auto content = read_text(owner_file);
    if (!content) {
        return std::nullopt;
    }
    json j = json::parse(*content, nullptr, false);
    auto text = [&](const char* key) {
        auto it = j.is_object() ? j.find(key) : j.end();
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
    };
    cni::Attachment a{text("network"), text("containerID"), text("ifname")};
    if (a.network.empty() || a.container_id.empty() || a.ifname.empty()) {
        return std::nullopt;
    }
    return a;
}

void remove_saved_state(const std::string& saved_path) {
    std::remove(saved_path.c_str());
    std::remove(owner_path(saved_path).c_str());
}

std::optional<SavedState> read_saved_state(const std::string& path) {
    auto text = read_text(path);
    if (!text) {
        return std::nullopt;
    }
    try {
        json j = json::parse(*text);
        SavedState s;
        if (auto mac = field<std::string>(j, "mac"); mac && !mac->empty()) {
            s.mac = netlib::MacAddr::parse(*mac);
        }
        s.promisc = field<bool>(j, "promisc");
        if (auto mtu = field<unsigned>(j, "mtu"); mtu && *mtu != 0) {
            s.mtu = mtu;
        }
        s.allmulti = field<bool>(j, "allmulti");
        s.txqlen = field<unsigned>(j, "txQLen");
        return s;
    } catch (const std::exception& e) {
        throw std::runtime_error(path + " is not a saved tuning state: " + e.what());
    }
}

}  // namespace tuning
