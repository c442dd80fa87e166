#include "netlib/netns.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "netlib/error.hpp"
#include "netlib/link.hpp"
#include "netlib/route_socket.hpp"
#include "tests/support/netns_fixture.hpp"

namespace {

using netlib::Netns;
using sdnet::test::NetnsTest;

class NetnsFixture : public NetnsTest {};

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_F(NetnsFixture, TryOpenMissingPathIsNullopt) {
    EXPECT_FALSE(Netns::try_open("/run/netns/does-not-exist").has_value());
    EXPECT_FALSE(Netns::try_open("/nonexistent-dir/x/y").has_value());
}

TEST_F(NetnsFixture, OpenMissingPathThrowsWithPath) {
    try {
        (void)Netns::open("/run/netns/does-not-exist");
        FAIL() << "expected Error";
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_NE(std::string{e.what()}.find("/run/netns/does-not-exist"), std::string::npos);
    }
}

TEST_F(NetnsFixture, RegularFileIsNotANetns) {
    std::string file = "/run/netns/regular-file";
    std::ofstream{file} << "x";
    EXPECT_FALSE(Netns::try_open(file).has_value());
    try {
        (void)Netns::open(file);
        FAIL() << "expected Error";
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), EINVAL);
        std::string msg = e.what();
        EXPECT_NE(msg.find("open netns"), std::string::npos) << msg;
        EXPECT_NE(msg.find(file), std::string::npos) << msg;
        EXPECT_NE(msg.find("not a namespace"), std::string::npos) << msg;
    }
}

TEST_F(NetnsFixture, OtherNamespaceTypesAreRejected) {
    EXPECT_FALSE(Netns::try_open("/proc/self/ns/mnt").has_value());
    EXPECT_THROW((void)Netns::open("/proc/self/ns/uts"), netlib::Error);
}

TEST_F(NetnsFixture, CurrentAndOfPidAgree) {
    Netns cur = Netns::current();
    EXPECT_TRUE(cur.same_as(Netns::current()));
    EXPECT_TRUE(cur.same_as(Netns::of_pid(::getpid())));  // gtest runs tests on the main thread
    EXPECT_THROW((void)Netns::of_pid(0x7ffffff0), netlib::Error);
}

TEST_F(NetnsFixture, CreateListRemoveNamed) {
    std::string path = netlib::create_named_netns("nl-a");
    EXPECT_EQ(path, "/run/netns/nl-a");
    EXPECT_TRUE(contains(netlib::list_named_netns(), "nl-a"));
    Netns ns = Netns::open(path);
    EXPECT_FALSE(ns.same_as(Netns::current()));
    // A fresh namespace holds only lo, down.
    netlib::RouteSocket sock = netlib::RouteSocket::open_in(ns);
    auto links = netlib::list_links(sock);
    ASSERT_EQ(links.size(), 1U);
    EXPECT_EQ(links[0].name, "lo");
    EXPECT_FALSE(links[0].up);

    try {
        (void)netlib::create_named_netns("nl-a");
        FAIL() << "expected EEXIST";
    } catch (const netlib::Error& e) {
        EXPECT_EQ(e.code(), EEXIST);
        EXPECT_NE(std::string{e.what()}.find(path), std::string::npos);
    }
    EXPECT_TRUE(netlib::remove_named_netns("nl-a"));
    EXPECT_FALSE(netlib::remove_named_netns("nl-a"));
    EXPECT_FALSE(contains(netlib::list_named_netns(), "nl-a"));
    EXPECT_FALSE(Netns::try_open(path).has_value());
    // Our handle still keeps the namespace itself alive.
    EXPECT_FALSE(ns.same_as(Netns::current()));
}

TEST_F(NetnsFixture, RunDirIsASharedMountPoint) {
    (void)netlib::create_named_netns("nl-shared");
    std::ifstream mountinfo{"/proc/self/mountinfo"};
    std::string line;
    bool shared = false;
    while (std::getline(mountinfo, line)) {
        if (line.find(" /run/netns ") != std::string::npos &&
            line.find("shared:") != std::string::npos) {
            shared = true;
        }
    }
    EXPECT_TRUE(shared);
}

TEST_F(NetnsFixture, InvalidNamesAreRejected) {
    for (const char* bad : {"", ".", "..", "a/b"}) {
        EXPECT_THROW((void)netlib::create_named_netns(bad), std::invalid_argument) << bad;
        EXPECT_THROW((void)netlib::remove_named_netns(bad), std::invalid_argument) << bad;
    }
}

TEST_F(NetnsFixture, GuardEntersAndRestores) {
    auto target = make_netns("guard");
    Netns before = Netns::current();
    {
        netlib::NetnsGuard in{target.ns};
        EXPECT_TRUE(Netns::current().same_as(target.ns));
        // A socket opened now lives in the target.
        netlib::RouteSocket sock = netlib::RouteSocket::open();
        EXPECT_FALSE(netlib::find_link(sock, "lo")->up);
    }
    EXPECT_TRUE(Netns::current().same_as(before));
}

TEST_F(NetnsFixture, OpenInBindsTheSocketToTheTarget) {
    auto target = make_netns("bind");
    Netns before = Netns::current();
    netlib::RouteSocket there = netlib::RouteSocket::open_in(target.ns);
    EXPECT_TRUE(Netns::current().same_as(before));
    netlib::set_up(there, 1, true);
    EXPECT_TRUE(netlib::find_link(there, "lo")->up);
    // Moving the socket keeps its binding.
    netlib::RouteSocket moved = std::move(there);
    EXPECT_TRUE(netlib::find_link(moved, 1)->up);
}

TEST_F(NetnsFixture, MakeNetnsNamesAreUnique) {
    auto a = make_netns("u");
    auto b = make_netns("u");
    EXPECT_NE(a.name, b.name);
    EXPECT_FALSE(a.ns.same_as(b.ns));
}

}  // namespace
