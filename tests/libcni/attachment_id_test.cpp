#include "runtime/libcni/attachment_id.hpp"

#include <gtest/gtest.h>

#include "runtime/libcni/error.hpp"

namespace {

TEST(LibcniAttachmentId, ContainerIdMatchesCnitool) {
    // printf /run/netns/blue | sha512sum | cut -c1-20
    EXPECT_EQ(libcni::derive_container_id("/run/netns/blue"), "cnitool-df26705e2e4ffd095eb1");
}

TEST(LibcniAttachmentId, NetnsArgumentIsANameOrAPath) {
    EXPECT_EQ(libcni::netns_path("blue"), "/run/netns/blue");
    EXPECT_EQ(libcni::netns_path("blue", "/tmp/ns"), "/tmp/ns/blue");
    EXPECT_EQ(libcni::netns_path("/proc/1/ns/net"), "/proc/1/ns/net");
    EXPECT_EQ(libcni::netns_path("/run//netns/./x/"), "/run/netns/x");
    EXPECT_EQ(libcni::netns_path("./x").front(), '/');
    EXPECT_THROW(libcni::netns_path(""), libcni::ArgumentError);
    EXPECT_THROW(libcni::netns_path(".."), libcni::ArgumentError);
}

TEST(LibcniAttachmentId, NetnsAliveOnlyForNamespaces) {
    EXPECT_TRUE(libcni::netns_alive("/proc/self/ns/net"));
    EXPECT_FALSE(libcni::netns_alive("/proc/self/status"));
    EXPECT_FALSE(libcni::netns_alive("/nonexistent/netns"));
    EXPECT_FALSE(libcni::netns_alive(""));
}

}  // namespace
