#include "runtime/libcni/cache.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include "runtime/libcni/error.hpp"
#include "tests/support/fake_plugins.hpp"

namespace {

using libcni::CacheEntry;
using nlohmann::json;
using sdnet::test::read_file;
using sdnet::test::TempDir;
using sdnet::test::write_file;

const char* kConflist = R"({"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge"}]})";

CacheEntry sample_entry() {
    CacheEntry e;
    e.container_id = "cnitool-0123456789abcdef0123";
    e.config = kConflist;
    e.ifname = "eth0";
    e.network = "net";
    e.netns = "/run/netns/blue";
    e.cni_args = {{"IgnoreUnknown", "1"}, {"K8S_POD_NAME", "web"}};
    e.capability_args =
        json::parse(R"({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})");
    e.result = json::parse(R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0",
        "sandbox":"/run/netns/blue"}],"ips":[{"address":"10.88.10.2/24","interface":0}]})");
    return e;
}

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};

    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

TEST(LibcniCache, Base64MatchesRfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(libcni::base64_encode(plain), encoded);
        EXPECT_EQ(libcni::base64_decode(encoded), plain);
    }
    std::string binary = {'\0', '\xff', '\x10', '\x80'};
    EXPECT_EQ(libcni::base64_decode(libcni::base64_encode(binary)), binary);
    EXPECT_THROW(libcni::base64_decode("Zm9"), std::invalid_argument);
    EXPECT_THROW(libcni::base64_decode("Zm$v"), std::invalid_argument);
    EXPECT_THROW(libcni::base64_decode("Z=9v"), std::invalid_argument);
    // Strict as Go's decoder, where libcrypto's alone would take these.
    for (const char* lenient :
         {"Zg=a", "Z===", "====", "Zm9v    ", "  Zm9v  ", "\nZm9vYmFy\n\n\n"}) {
        EXPECT_THROW(libcni::base64_decode(lenient), std::invalid_argument) << lenient;
    }
}

TEST(LibcniCache, EncodesInLibcniKeyOrderWithBase64Config) {
    auto e = sample_entry();
    std::string expected =
        R"({"kind":"cniCacheV1","containerId":"cnitool-0123456789abcdef0123","config":")" +
        libcni::base64_encode(kConflist) +
        R"(","ifName":"eth0","networkName":"net","netns":"/run/netns/blue",)"
        R"("cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAME","web"]],)"
        R"("capabilityArgs":{"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]},)"
        R"("result":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/blue"}],)"
        R"("ips":[{"address":"10.88.10.2/24","interface":0}]}})";
    EXPECT_EQ(libcni::encode_cache(e), expected);
}

TEST(LibcniCache, OmitsEmptyOptionalFieldsLikeGo) {
    CacheEntry e;
    e.container_id = "c";
    e.config = "{}";
    e.ifname = "eth0";
    e.network = "n";
    EXPECT_EQ(libcni::encode_cache(e),
              R"({"kind":"cniCacheV1","containerId":"c","config":"e30=","ifName":"eth0",)"
              R"("networkName":"n"})");
}

TEST(LibcniCache, WritesLibcniPathWithPrivatePermissionsAndReadsBackEveryField) {
    TempDir tmp;
    libcni::ResultCache cache(tmp / "cni");
    auto e = sample_entry();
    cache.write(e);
    auto file = tmp / "cni/results/net-cnitool-0123456789abcdef0123-eth0";
    ASSERT_TRUE(std::filesystem::exists(file));
    EXPECT_EQ(cache.path_for("net", e.container_id, "eth0"), file);
    EXPECT_EQ(mode_of(tmp / "cni"), 0700u);
    EXPECT_EQ(mode_of(tmp / "cni/results"), 0700u);
    EXPECT_EQ(mode_of(file), 0600u);
    // Nothing left over from the atomic write.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(tmp / "cni/results"),
                            std::filesystem::directory_iterator{}),
              1);

    // Every field, read back as libcni's cachedInfo would see it.
    json j = json::parse(read_file(file));
    EXPECT_EQ(j["kind"], "cniCacheV1");
    EXPECT_EQ(j["containerId"], e.container_id);
    EXPECT_EQ(libcni::base64_decode(j["config"].get<std::string>()), kConflist);
    EXPECT_EQ(j["ifName"], "eth0");
    EXPECT_EQ(j["networkName"], "net");
    EXPECT_EQ(j["netns"], "/run/netns/blue");
    EXPECT_EQ(j["cniArgs"], json::parse(R"([["IgnoreUnknown","1"],["K8S_POD_NAME","web"]])"));
    EXPECT_EQ(j["capabilityArgs"], e.capability_args);
    EXPECT_EQ(j["result"], e.result);
    EXPECT_EQ(j.size(), 9u);

    auto back = cache.read("net", e.container_id, "eth0");
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, e);
    EXPECT_EQ(cache.read_result("net", e.container_id, "eth0"), e.result);

    e.netns = "/run/netns/red";  // overwrite in place
    cache.write(e);
    EXPECT_EQ(cache.read("net", e.container_id, "eth0")->netns, "/run/netns/red");
    EXPECT_TRUE(cache.remove("net", e.container_id, "eth0"));
    EXPECT_FALSE(cache.remove("net", e.container_id, "eth0"));
    EXPECT_FALSE(cache.read("net", e.container_id, "eth0"));
}

TEST(LibcniCache, ReadsFileWrittenByGoLibcni) {
    TempDir tmp;
    // As podman 4.3 (libcni 1.1.2) writes it: no "netns" (libcni writes it from 1.2), Go
    // escapes '<' '>' '&', capabilityArgs carries aliases, the result is 0.4.0 with
    // ips[].version.
    write_file(tmp / "results/podman-abc-eth0",
               R"({"kind":"cniCacheV1","containerId":"abc","config":"eyJuYW1lIjoicG9kbWFuIn0=",)"
               R"("ifName":"eth0","networkName":"podman",)"
               R"("cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAME","a\u0026b"]],)"
               R"("capabilityArgs":{"aliases":{"podman":["web"]}},)"
               R"("result":{"cniVersion":"0.4.0","dns":{},"interfaces":[{"name":"eth0",)"
               R"("sandbox":"/run/netns/netns-1"}],"ips":[{"version":"4","interface":0,)"
               R"("address":"10.88.0.2/16","gateway":"10.88.0.1"}]}})");
    libcni::ResultCache cache(tmp.path());
    auto e = cache.read("podman", "abc", "eth0");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->config, R"({"name":"podman"})");
    EXPECT_EQ(e->netns, "/run/netns/netns-1");  // eth0's sandbox in the result
    EXPECT_EQ(e->cni_args.at(1).second, "a&b");
    EXPECT_EQ(e->capability_args["aliases"]["podman"][0], "web");
    EXPECT_EQ(e->result["ips"][0]["version"], "4");
    auto all = cache.list();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].network, "podman");
}

TEST(LibcniCache, NetnsIsTheSandboxOfTheEntrysInterfaceOnly) {
    TempDir tmp;
    libcni::ResultCache cache(tmp.path());
    auto entry = [&](const std::string& result) {
        write_file(tmp / "results/n-c-eth0",
                   R"({"kind":"cniCacheV1","containerId":"c","config":"","ifName":"eth0",)"
                   R"("networkName":"n","result":)" +
                       result + "}");
        return *cache.read("n", "c", "eth0");
    };
    EXPECT_EQ(entry(R"({"interfaces":[{"name":"eth1","sandbox":"/run/netns/x"}]})").netns, "");
    EXPECT_EQ(entry(R"({"interfaces":[{"name":"eth0"}]})").netns, "");
    EXPECT_EQ(entry(R"({"interfaces":"eth0"})").netns, "");
    EXPECT_EQ(entry(R"({"interfaces":[{"name":"eth0","sandbox":7}]})").netns, "");
    EXPECT_EQ(entry(R"({"interfaces":[{"name":"br0"},{"name":"eth0","sandbox":"/proc/9/ns/net"}]})")
                  .netns,
              "/proc/9/ns/net");
}

TEST(LibcniCache, CorruptEmptyAndForeignFilesAreErrors) {
    TempDir tmp;
    libcni::ResultCache cache(tmp.path());
    auto file = cache.path_for("n", "c", "eth0");
    write_file(file, "");
    EXPECT_THROW(cache.read("n", "c", "eth0"), libcni::CacheError);
    EXPECT_THROW(cache.read_result("n", "c", "eth0"), libcni::CacheError);
    write_file(file, "{\"kind\":\"cniCacheV1\",");
    EXPECT_THROW(cache.read("n", "c", "eth0"), libcni::CacheError);
    write_file(file, R"({"kind":"cniCacheV2"})");
    EXPECT_THROW(cache.read("n", "c", "eth0"), libcni::CacheError);
    write_file(file, R"({"kind":"cniCacheV1","config":"!!!!"})");
    EXPECT_THROW(cache.read("n", "c", "eth0"), libcni::CacheError);
    write_file(file, R"({"kind":"cniCacheV1","cniArgs":[["a"]]})");
    EXPECT_THROW(cache.read("n", "c", "eth0"), libcni::CacheError);
    try {
        write_file(file, "garbage");
        cache.read("n", "c", "eth0");
    } catch (const libcni::CacheError& e) {
        EXPECT_EQ(std::string{e.what()}, "cache " + file.string() + ": invalid JSON");
    }
}

TEST(LibcniCache, LegacyFileHoldsOnlyTheResult) {
    TempDir tmp;
    libcni::ResultCache cache(tmp.path());
    json result = json::parse(R"({"cniVersion":"0.3.1","ips":[]})");
    write_file(cache.path_for("n", "c", "eth0"), result.dump());
    EXPECT_EQ(cache.read_result("n", "c", "eth0"), result);
    EXPECT_FALSE(cache.read_result("n", "other", "eth0"));
    EXPECT_TRUE(cache.list().empty());  // not a cniCacheV1 attachment
}

TEST(LibcniCache, ListsAttachmentsLikeGetCachedAttachments) {
    TempDir tmp;
    libcni::ResultCache cache(tmp.path());
    auto e = sample_entry();
    e.container_id = "c1";
    cache.write(e);
    e.container_id = "c2";
    e.network = "other";
    cache.write(e);
    write_file(tmp / "results/broken-c3-eth0", "{");
    write_file(tmp / "results/noif-c1-eth0",
               R"({"kind":"cniCacheV1","containerId":"c1","networkName":"noif"})");
    write_file(tmp / "results/.net-c9-eth0.XXXXXX", "{");  // an interrupted write
    auto all = cache.list();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].container_id, "c1");  // sorted by file name: net-c1... < other-c2...
    EXPECT_EQ(all[1].network, "other");
    auto only = cache.list("c2");
    ASSERT_EQ(only.size(), 1u);
    EXPECT_EQ(only[0].container_id, "c2");
    EXPECT_TRUE(libcni::ResultCache(tmp / "nothing").list().empty());
}

TEST(LibcniCache, PathNeedsAllParts) {
    libcni::ResultCache cache("/var/lib/cni");
    EXPECT_EQ(cache.path_for("n", "c", "eth0"), "/var/lib/cni/results/n-c-eth0");
    EXPECT_THROW(cache.path_for("", "c", "eth0"), libcni::ArgumentError);
    EXPECT_THROW(cache.path_for("n", "", "eth0"), libcni::ArgumentError);
    EXPECT_THROW(cache.path_for("n", "c", ""), libcni::ArgumentError);
}

TEST(LibcniCache, WriteFailureIsCacheError) {
    TempDir tmp;
    write_file(tmp / "file", "x");
    libcni::ResultCache cache(tmp / "file");  // a file where the directory should be
    EXPECT_THROW(cache.write(sample_entry()), libcni::CacheError);
}

}  // namespace
