#include "runtime/libcni/error.hpp"

namespace libcni {

Error::Error(const std::string& what) : std::runtime_error(one_line(what)) {}

ConfigError::ConfigError(std::string file, std::string key, const std::string& problem)
    : Error(file + ": " + (key.empty() ? "" : "\"" + key + "\": ") + problem),
      file_(std::move(file)),
      key_(std::move(key)) {}

NotFoundError::NotFoundError(std::string dir, std::string name, bool dir_missing)
    : Error("no network named \"" + name + "\" in " + dir +
            (dir_missing ? " (the directory does not exist)" : "")),
      dir_(std::move(dir)),
      name_(std::move(name)) {}

namespace {

std::string plugin_message(const std::string& network, const std::string& plugin,
                           cni::Command command, const cni::Error& cause) {
    std::string out = "network \"" + network + "\": plugin \"" + plugin + "\" failed (" +
                      cni::to_string(command) + "): " + cause.what();
    if (!cause.details().empty()) {
        out += ": " + cause.details();
    }
    return out + " [CNI code " + std::to_string(static_cast<int>(cause.code())) + "]";
}

}  // namespace

PluginError::PluginError(const std::string& network, std::string plugin, cni::Command command,
                         const cni::Error& cause)
    : Error(plugin_message(network, plugin, command, cause)),
      plugin_(std::move(plugin)),
      command_(command),
      code_(cause.code()),
      msg_(cause.what()),
      details_(cause.details()) {}

AddFailedError::AddFailedError(const std::string& add_error, const std::string& rollback_error)
    : Error(add_error + "; the DEL that followed failed too: " + rollback_error),
      rollback_error_(rollback_error) {}

CacheError::CacheError(const std::string& file, const std::string& problem)
    : Error("cache " + file + ": " + problem) {}

std::string one_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool space = false;
    for (char c : text) {
        bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        if (control) {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += c;
    }
    return out;
}

}  // namespace libcni
