#include "runtime/libcni/conf.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"
#include "runtime/libcni/error.hpp"

namespace libcni {
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw ConfigError(file.string(), "", std::string{"cannot read: "} + std::strerror(errno));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; keep the readable part.
std::string json_problem(const json::exception& e) {
    std::string_view text = e.what();
    if (auto end = text.find("] "); text.starts_with("[json.exception") && end != text.npos) {
        text.remove_prefix(end + 2);
    }
    return "invalid JSON: " + std::string{text};
}

json parse_object(std::string_view bytes, const std::string& source) {
    json j;
    try {
        j = json::parse(bytes);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
        throw ConfigError(source, "", json_problem(e));
    }
    if (!j.is_object()) {
        throw ConfigError(source, "", "must be a JSON object");
    }
    return j;
}

std::string key_path(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
}

// A string-valued key, or nullopt when absent or null (Go treats null as absent).
std::optional<std::string> opt_string(const json& obj, const std::string& key,
                                      const std::string& source, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_string()) {
        throw ConfigError(source, key_path(where, key), "must be a string");
    }
    return it->get<std::string>();
}

void check_object(const json& obj, const std::string& key, const std::string& source,
                  const std::string& where) {
    auto it = obj.find(key);
    if (it != obj.end() && !it->is_null() && !it->is_object()) {
        throw ConfigError(source, key_path(where, key), "must be an object");
    }
}

cni::Version parse_version(const std::string& text, const std::string& source,
                           const std::string& key) {
    try {
        return cni::Version::parse(text);
    } catch (const cni::Error&) {
        throw ConfigError(source, key, "invalid version \"" + text + "\" (expected X.Y.Z)");
    }
}

std::string network_name(const json& obj, const std::string& source) {
    auto name = opt_string(obj, "name", source, "");
    if (!name) {
        throw ConfigError(source, "name", "missing");
    }
    if (!cni::valid_id(*name)) {
        throw ConfigError(source, "name",
                          "invalid network name \"" + *name +
                              "\" (letters, digits, '_', '.', '-'; starting with a letter or "
                              "digit)");
    }
    return *name;
}

// libcni: cniVersions entries newer than this implementation are skipped; the highest of the
// remaining ones and cniVersion wins. Without cniVersions, cniVersion is taken as written.
std::string select_version(const json& obj, const std::string& source) {
    auto version = opt_string(obj, "cniVersion", source, "").value_or("");
    if (!version.empty()) {
        parse_version(version, source, "cniVersion");
    }
    auto it = obj.find("cniVersions");
    if (it == obj.end() || it->is_null()) {
        return version;
    }
    if (!it->is_array()) {
        throw ConfigError(source, "cniVersions", "must be a list of version strings");
    }
    std::vector<std::pair<cni::Version, std::string>> usable;
    for (std::size_t i = 0; i < it->size(); ++i) {
        std::string key = "cniVersions[" + std::to_string(i) + "]";
        if (!(*it)[i].is_string()) {
            throw ConfigError(source, key, "must be a string");
        }
        auto text = (*it)[i].get<std::string>();
        if (auto v = parse_version(text, source, key); v <= cni::kCurrentVersion) {
            usable.emplace_back(v, text);
        }
    }
    if (!version.empty() && cni::Version::parse(version) <= cni::kCurrentVersion) {
        usable.emplace_back(cni::Version::parse(version), version);
    }
    if (usable.empty()) {
        return version;
    }
    return std::max_element(usable.begin(), usable.end())->second;
}

// libcni readBool: a boolean, or the strings "true"/"false" in any case.
bool read_bool(const json& obj, const std::string& key, const std::string& source) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return false;
    }
    if (it->is_boolean()) {
        return it->get<bool>();
    }
    if (it->is_string()) {
        auto s = it->get<std::string>();
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (s == "true" || s == "false") {
            return s == "true";
        }
    }
    throw ConfigError(source, key, "must be true or false");
}

void parse_plugins(const json& obj, NetworkList& list) {
    auto it = obj.find("plugins");
    if (it == obj.end() || it->is_null()) {
        if (list.load_only_inlined_plugins) {
            throw ConfigError(list.source, "plugins",
                              "missing, but loadOnlyInlinedPlugins is true");
        }
        return;
    }
    if (!it->is_array()) {
        throw ConfigError(list.source, "plugins", "must be a list of plugin objects");
    }
    if (it->empty()) {
        throw ConfigError(list.source, "plugins", "must not be empty");
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
        list.plugins.push_back(
            parse_plugin_conf((*it)[i], list.source, "plugins[" + std::to_string(i) + "]"));
    }
}

// Files in `dir` whose extension is one of `exts`, sorted by name; none if `dir` is missing.
std::vector<fs::path> conf_files(const fs::path& dir,
                                 std::initializer_list<std::string_view> exts) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec)) {
            continue;
        }
        auto ext = it->path().extension().string();
        if (std::find(exts.begin(), exts.end(), ext) != exts.end()) {
            out.push_back(it->path());
        }
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
        throw ConfigError(dir.string(), "", "cannot list: " + ec.message());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

std::vector<std::string> PluginConf::capabilities() const {
    std::vector<std::string> out;
    if (auto it = conf.find("capabilities"); it != conf.end() && it->is_object()) {
        for (const auto& [name, enabled] : it->items()) {
            if (enabled.is_boolean() && enabled.get<bool>()) {
                out.push_back(name);
            }
        }
    }
    return out;  // json objects iterate in key order
}

cni::Version NetworkList::version() const {
    return cni_version.empty() ? cni::Version{} : cni::Version::parse(cni_version);
}

PluginConf parse_plugin_conf(const json& obj, const std::string& source, const std::string& where) {
    if (!obj.is_object()) {
        throw ConfigError(source, where, "must be a plugin object");
    }
    PluginConf p;
    p.type = opt_string(obj, "type", source, where).value_or("");
    if (p.type.empty()) {
        throw ConfigError(source, key_path(where, "type"), "missing");
    }
    if (p.type.find('/') != std::string::npos) {
        throw ConfigError(source, key_path(where, "type"),
                          "must be a plugin name, not a path: \"" + p.type + "\"");
    }
    opt_string(obj, "name", source, where);
    opt_string(obj, "cniVersion", source, where);
    check_object(obj, "ipam", source, where);
    check_object(obj, "dns", source, where);
    check_object(obj, "capabilities", source, where);
    if (auto caps = obj.find("capabilities"); caps != obj.end() && caps->is_object()) {
        for (const auto& [name, enabled] : caps->items()) {
            if (!enabled.is_boolean()) {
                throw ConfigError(source, key_path(where, "capabilities." + name),
                                  "must be true or false");
            }
        }
    }
    p.conf = obj;
    p.source = source;
    return p;
}

NetworkList parse_network_list(std::string_view bytes, const std::string& source) {
    json obj = parse_object(bytes, source);
    NetworkList list;
    list.source = source;
    list.bytes = std::string{bytes};
    list.name = network_name(obj, source);
    list.cni_version = select_version(obj, source);
    list.disable_check = read_bool(obj, "disableCheck", source);
    list.disable_gc = read_bool(obj, "disableGC", source);
    list.load_only_inlined_plugins = read_bool(obj, "loadOnlyInlinedPlugins", source);
    parse_plugins(obj, list);
    return list;
}

NetworkList load_network_list_file(const fs::path& file) {
    NetworkList list = parse_network_list(read_file(file), file.string());
    if (!list.load_only_inlined_plugins) {
        fs::path dir = file.parent_path() / list.name;
        for (const auto& extra : conf_files(dir, {".conf"})) {
            json obj = parse_object(read_file(extra), extra.string());
            list.plugins.push_back(parse_plugin_conf(obj, extra.string(), ""));
        }
    }
    if (list.plugins.empty()) {
        throw ConfigError(
            file.string(), "plugins",
            "missing (and no plugin files in " + (file.parent_path() / list.name).string() + "/)");
    }
    return list;
}

NetworkList load_single_conf_file(const fs::path& file) {
    std::string source = file.string();
    json obj = parse_object(read_file(file), source);
    parse_plugin_conf(obj, source, "");
    std::string name = network_name(obj, source);
    std::string version = opt_string(obj, "cniVersion", source, "").value_or("");
    if (!version.empty()) {
        parse_version(version, source, "cniVersion");
    }
    json list = {{"cniVersion", version}, {"name", name}, {"plugins", json::array({obj})}};
    return parse_network_list(list.dump(), source);
}

NetworkList load_network(const fs::path& dir, std::string_view name) {
    for (const auto& file : conf_files(dir, {".conflist"})) {
        auto list = load_network_list_file(file);
        if (list.name == name) {
            return list;
        }
    }
    for (const auto& file : conf_files(dir, {".conf", ".json"})) {
        auto list = load_single_conf_file(file);
        if (list.name == name) {
            return list;
        }
    }
    std::error_code ec;
    throw NotFoundError(dir.string(), std::string{name}, !fs::is_directory(dir, ec));
}

std::vector<ConfFile> scan_networks(const fs::path& dir) {
    std::vector<ConfFile> out;
    std::set<std::string> seen;
    auto scan = [&](const fs::path& file, auto load) {
        ConfFile entry{file, std::nullopt, {}, false};
        try {
            entry.list = load(file);
            entry.shadowed = !seen.insert(entry.list->name).second;
        } catch (const ConfigError& e) {
            entry.error = e.what();
        }
        out.push_back(std::move(entry));
    };
    for (const auto& file : conf_files(dir, {".conflist"})) {
        scan(file, load_network_list_file);
    }
    for (const auto& file : conf_files(dir, {".conf", ".json"})) {
        scan(file, load_single_conf_file);
    }
    return out;
}

}  // namespace libcni
