#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "plugins/cni/env.hpp"
#include "plugins/cni/error.hpp"

// Errors of the runtime side of CNI. Every what() is a single line that names what it is about
// (the file and key, the plugin and verb, the cache file), so a CLI can print it unchanged.
namespace libcni {

// Base of every error this library throws on purpose.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what);
};

// A network configuration file is unreadable or malformed. what(): `<file>: "<key>": <problem>`
// (without the key part when the problem is the whole file).
class ConfigError : public Error {
public:
    ConfigError(std::string file, std::string key, const std::string& problem);

    const std::string& file() const noexcept { return file_; }

    const std::string& key() const noexcept { return key_; }

private:
    std::string file_;
    std::string key_;
};

// No configuration in the directory has the requested network name.
class NotFoundError : public Error {
public:
    // `dir_missing` adds that the directory itself does not exist.
    NotFoundError(std::string dir, std::string name, bool dir_missing = false);

    const std::string& name() const noexcept { return name_; }

private:
    std::string dir_;
    std::string name_;
};

// A runtime argument (container id, interface name, network name) is invalid.
class ArgumentError : public Error {
public:
    using Error::Error;
};

// A plugin could not be found or run, or returned an error. Carries the CNI error the plugin
// printed. what(): `network "n": plugin "bridge" failed (ADD): <msg>: <details> [CNI code 7]`.
class PluginError : public Error {
public:
    PluginError(const std::string& network, std::string plugin, cni::Command command,
                const cni::Error& cause);

    const std::string& plugin() const noexcept { return plugin_; }

    cni::Command command() const noexcept { return command_; }

    cni::Code code() const noexcept { return code_; }

    // The plugin's own message and details.
    const std::string& msg() const noexcept { return msg_; }

    const std::string& details() const noexcept { return details_; }

private:
    std::string plugin_;
    cni::Command command_;
    cni::Code code_;
    std::string msg_;
    std::string details_;
};

// ADD failed and the chain was deleted again; what() tells both stories when the DEL failed too.
class AddFailedError : public Error {
public:
    AddFailedError(const std::string& add_error, const std::string& rollback_error);

    // Empty when the rollback DEL succeeded.
    const std::string& rollback_error() const noexcept { return rollback_error_; }

private:
    std::string rollback_error_;
};

// The result cache could not be read or written. what(): `cache <file>: <problem>`.
class CacheError : public Error {
public:
    CacheError(const std::string& file, const std::string& problem);
};

// The operation is not defined for the configuration's cniVersion (CHECK before 0.4.0).
class UnsupportedError : public Error {
public:
    using Error::Error;
};

// Text with control characters (newlines from a plugin's output) folded into spaces, so it can
// be part of a one-line message.
std::string one_line(std::string_view text);

}  // namespace libcni
