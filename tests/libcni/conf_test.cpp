#include "runtime/libcni/conf.hpp"

#include <gtest/gtest.h>

#include "runtime/libcni/error.hpp"
#include "tests/support/fake_plugins.hpp"

namespace {

using libcni::ConfigError;
using nlohmann::json;
using sdnet::test::TempDir;
using sdnet::test::write_file;

// The message of the ConfigError `f` throws; fails the test if it throws nothing.
template <class F>
std::string config_error(F f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ConfigError";
    return {};
}

const char* kBridgeList = R"({
  "cniVersion": "1.0.0", "name": "br", "disableCheck": "TRUE",
  "plugins": [
    {"type": "bridge", "bridge": "br0", "ipam": {"type": "host-local"}, "custom": [1, 2]},
    {"type": "portmap", "capabilities": {"portMappings": true, "ips": false}}
  ]
})";

TEST(LibcniConf, ParsesConflistKeepingPluginObjectsVerbatim) {
    auto list = libcni::parse_network_list(kBridgeList, "mem");
    EXPECT_EQ(list.name, "br");
    EXPECT_EQ(list.cni_version, "1.0.0");
    EXPECT_TRUE(list.disable_check);
    EXPECT_FALSE(list.disable_gc);
    ASSERT_EQ(list.plugins.size(), 2u);
    EXPECT_EQ(list.plugins[0].type, "bridge");
    EXPECT_EQ(list.plugins[0].conf["custom"], json::parse("[1,2]"));
    EXPECT_EQ(list.plugins[1].capabilities(), std::vector<std::string>{"portMappings"});
    EXPECT_EQ(list.bytes, kBridgeList);
}

TEST(LibcniConf, SelectsHighestUsableCniVersion) {
    auto pick = [](const std::string& versions) {
        return libcni::parse_network_list(
                   R"({"name":"n",)" + versions + R"(,"plugins":[{"type":"x"}]})", "mem")
            .cni_version;
    };
    EXPECT_EQ(pick(R"("cniVersion":"0.3.1","cniVersions":["0.4.0","1.0.0","9.9.9"])"), "1.0.0");
    EXPECT_EQ(pick(R"("cniVersion":"1.1.0","cniVersions":["0.4.0"])"), "1.1.0");
    // Versions newer than this implementation are skipped, cniVersion included...
    EXPECT_EQ(pick(R"("cniVersion":"2.0.0","cniVersions":["1.0.0"])"), "1.0.0");
    // ...but without cniVersions it is taken as written, as libcni does.
    EXPECT_EQ(pick(R"("cniVersion":"2.0.0")"), "2.0.0");
    EXPECT_EQ(pick(R"("cniVersion":"0.4.0","cniVersions":["5.0.0"])"), "0.4.0");
    EXPECT_EQ(
        libcni::parse_network_list(R"({"name":"n","plugins":[{"type":"x"}]})", "mem").version(),
        (cni::Version{0, 1, 0}));
}

TEST(LibcniConf, ErrorsNameTheSourceAndTheKey) {
    auto err = [](const std::string& text) {
        return config_error([&] { libcni::parse_network_list(text, "/etc/x.conflist"); });
    };
    EXPECT_EQ(err("{\"name\": "), err("{\"name\": "));  // deterministic
    EXPECT_NE(err("{\"name\": ").find("/etc/x.conflist: invalid JSON"), std::string::npos);
    EXPECT_EQ(err("[]"), "/etc/x.conflist: must be a JSON object");
    EXPECT_EQ(err(R"({"plugins":[{"type":"x"}]})"), "/etc/x.conflist: \"name\": missing");
    EXPECT_EQ(err(R"({"name":7})"), "/etc/x.conflist: \"name\": must be a string");
    EXPECT_NE(err(R"({"name":"a b"})").find("\"name\": invalid network name \"a b\""),
              std::string::npos);
    EXPECT_EQ(err(R"({"name":"n","cniVersion":"1.0"})"),
              "/etc/x.conflist: \"cniVersion\": invalid version \"1.0\" (expected X.Y.Z)");
    EXPECT_EQ(err(R"({"name":"n","cniVersions":["1.0.0",3]})"),
              "/etc/x.conflist: \"cniVersions[1]\": must be a string");
    EXPECT_EQ(err(R"({"name":"n","plugins":{}})"),
              "/etc/x.conflist: \"plugins\": must be a list of plugin objects");
    EXPECT_EQ(err(R"({"name":"n","plugins":[]})"),
              "/etc/x.conflist: \"plugins\": must not be empty");
    EXPECT_EQ(err(R"({"name":"n","plugins":[{"type":"a"},{"bridge":"x"}]})"),
              "/etc/x.conflist: \"plugins[1].type\": missing");
    EXPECT_EQ(err(R"({"name":"n","plugins":[{"type":"../evil"}]})"),
              "/etc/x.conflist: \"plugins[0].type\": must be a plugin name, not a path: "
              "\"../evil\"");
    EXPECT_EQ(err(R"({"name":"n","plugins":[{"type":"a","capabilities":{"ips":"yes"}}]})"),
              "/etc/x.conflist: \"plugins[0].capabilities.ips\": must be true or false");
    EXPECT_EQ(err(R"({"name":"n","plugins":[{"type":"a","ipam":[]}]})"),
              "/etc/x.conflist: \"plugins[0].ipam\": must be an object");
    EXPECT_EQ(err(R"({"name":"n","disableGC":"maybe","plugins":[{"type":"a"}]})"),
              "/etc/x.conflist: \"disableGC\": must be true or false");
    EXPECT_EQ(err(R"({"name":"n","loadOnlyInlinedPlugins":true})"),
              "/etc/x.conflist: \"plugins\": missing, but loadOnlyInlinedPlugins is true");
}

TEST(LibcniConf, LoadsFirstMatchingConflistInFileNameOrder) {
    TempDir dir;
    write_file(dir / "20-b.conflist",
               R"({"name":"net","cniVersion":"1.0.0","plugins":[{"type":"b"}]})");
    write_file(dir / "10-a.conflist",
               R"({"name":"net","cniVersion":"1.0.0","plugins":[{"type":"a"}]})");
    write_file(dir / "05-single.conf", R"({"name":"net","cniVersion":"1.0.0","type":"single"})");
    write_file(dir / "30-other.conflist", R"({"name":"other","plugins":[{"type":"o"}]})");
    auto list = libcni::load_network(dir.path(), "net");
    EXPECT_EQ(list.plugins.at(0).type, "a");  // conflists win over .conf, then by file name
    EXPECT_EQ(list.source, (dir / "10-a.conflist").string());
    EXPECT_EQ(libcni::load_network(dir.path(), "other").plugins.at(0).type, "o");
    EXPECT_THROW(libcni::load_network(dir.path(), "nope"), libcni::NotFoundError);
}

TEST(LibcniConf, UpConvertsSingleConfFiles) {
    TempDir dir;
    write_file(dir / "10-old.conf", R"({"cniVersion":"0.4.0","name":"old","type":"bridge","x":1})");
    write_file(dir / "20-old.json", R"({"cniVersion":"0.3.1","name":"older","type":"ptp"})");
    auto list = libcni::load_network(dir.path(), "old");
    EXPECT_EQ(list.cni_version, "0.4.0");
    ASSERT_EQ(list.plugins.size(), 1u);
    EXPECT_EQ(list.plugins[0].conf["x"], 1);
    // libcni ConfListFromConf: the cached config is the generated list, not the .conf file.
    EXPECT_EQ(json::parse(list.bytes),
              json::parse(R"({"cniVersion":"0.4.0","name":"old","plugins":[)"
                          R"({"cniVersion":"0.4.0","name":"old","type":"bridge","x":1}]})"));
    EXPECT_EQ(libcni::load_network(dir.path(), "older").plugins.at(0).type, "ptp");
}

TEST(LibcniConf, MalformedFileOnTheWayIsAnError) {
    TempDir dir;
    write_file(dir / "10-bad.conflist", R"({"name":"bad","plugins":[{"type":"a"},{}]})");
    write_file(dir / "20-good.conflist", R"({"name":"good","plugins":[{"type":"a"}]})");
    EXPECT_EQ(config_error([&] { libcni::load_network(dir.path(), "good"); }),
              (dir / "10-bad.conflist").string() + ": \"plugins[1].type\": missing");
}

TEST(LibcniConf, AppendsPluginFilesFromNetworkDirectory) {
    TempDir dir;
    write_file(dir / "10-net.conflist",
               R"({"name":"net","cniVersion":"1.1.0","plugins":[{"type":"a"}]})");
    write_file(dir / "net/20-c.conf", R"({"type":"c"})");
    write_file(dir / "net/10-b.conf", R"({"type":"b"})");
    write_file(dir / "net/ignored.json", R"({"type":"z"})");
    auto list = libcni::load_network(dir.path(), "net");
    ASSERT_EQ(list.plugins.size(), 3u);
    EXPECT_EQ(list.plugins[1].type, "b");
    EXPECT_EQ(list.plugins[2].type, "c");
    EXPECT_EQ(list.plugins[2].source, (dir / "net/20-c.conf").string());

    write_file(dir / "10-net.conflist",
               R"({"name":"net","loadOnlyInlinedPlugins":true,"plugins":[{"type":"a"}]})");
    EXPECT_EQ(libcni::load_network(dir.path(), "net").plugins.size(), 1u);

    write_file(dir / "10-net.conflist", R"({"name":"net"})");  // plugins only from the dir
    EXPECT_EQ(libcni::load_network(dir.path(), "net").plugins.size(), 2u);

    write_file(dir / "net/30-bad.conf", R"({"type":7})");
    EXPECT_EQ(config_error([&] { libcni::load_network(dir.path(), "net"); }),
              (dir / "net/30-bad.conf").string() + ": \"type\": must be a string");
}

TEST(LibcniConf, ListWithoutAnyPluginIsAnError) {
    TempDir dir;
    write_file(dir / "10-net.conflist", R"({"name":"net"})");
    EXPECT_NE(config_error([&] {
                  libcni::load_network(dir.path(), "net");
              }).find("\"plugins\": missing (and no plugin files in"),
              std::string::npos);
}

TEST(LibcniConf, NotFoundNamesDirectory) {
    TempDir dir;
    try {
        libcni::load_network(dir / "missing", "net");
        FAIL();
    } catch (const libcni::NotFoundError& e) {
        EXPECT_EQ(std::string{e.what()}, "no network named \"net\" in " +
                                             (dir / "missing").string() +
                                             " (the directory does not exist)");
    }
}

TEST(LibcniConf, ScanReportsShadowedAndBrokenFiles) {
    TempDir dir;
    write_file(dir / "10-a.conflist", R"({"name":"a","plugins":[{"type":"x"}]})");
    write_file(dir / "20-bad.conflist", "{oops");
    write_file(dir / "30-a.conf", R"({"name":"a","type":"y"})");
    write_file(dir / "README", "not a config");
    auto files = libcni::scan_networks(dir.path());
    ASSERT_EQ(files.size(), 3u);
    EXPECT_TRUE(files[0].list && !files[0].shadowed);
    EXPECT_FALSE(files[1].list);
    EXPECT_NE(files[1].error.find("20-bad.conflist: invalid JSON"), std::string::npos);
    EXPECT_TRUE(files[2].list && files[2].shadowed);
}

TEST(LibcniConf, ErrorMessagesAreOneLine) {
    auto msg = config_error([] { libcni::parse_network_list("{\n\"name\": \"x\",\n", "f"); });
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

}  // namespace
