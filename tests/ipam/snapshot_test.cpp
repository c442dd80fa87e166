#include "ipam/snapshot.hpp"

#include <gtest/gtest.h>

namespace ipam {
namespace {

using netlib::IpAddr;

TEST(SnapshotTest, LookupFindsEveryKeyAmongMany) {
    std::vector<std::pair<std::string, IpAddr>> entries;
    IpAddr a = IpAddr::parse("10.0.0.1");
    for (int i = 999; i >= 0; --i, a = a.next()) {  // any order in
        entries.emplace_back("ctr-" + std::to_string(i) + "@eth0", a);
        if (i % 10 == 0) {
            entries.emplace_back("ctr-" + std::to_string(i) + "@eth0", IpAddr::parse("fd00::1"));
        }
    }
    std::string text = format_snapshot(entries);
    auto view = SnapshotView::parse(text);
    ASSERT_TRUE(view);
    for (const auto& [key, ip] : entries) {
        auto found = view->lookup(key);
        EXPECT_NE(std::find(found.begin(), found.end(), ip), found.end()) << key;
    }
    EXPECT_EQ(view->lookup("ctr-10@eth0").size(), 2u);
    EXPECT_EQ(view->lookup("ctr-11@eth0").size(), 1u);
    EXPECT_TRUE(view->lookup("ctr-1000@eth0").empty());
    EXPECT_TRUE(view->lookup("a").empty());          // before the first
    EXPECT_TRUE(view->lookup("zzz").empty());        // after the last
    EXPECT_TRUE(view->lookup("ctr-1@eth").empty());  // a prefix of a key is not the key
}

TEST(SnapshotTest, KeysThatArePrefixesOfEachOther) {
    std::string text = format_snapshot({{"c1@eth01", IpAddr::parse("10.0.0.3")},
                                        {"c1@", IpAddr::parse("10.0.0.1")},
                                        {"c1@eth0", IpAddr::parse("10.0.0.2")}});
    auto view = SnapshotView::parse(text);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->lookup("c1@"), (std::vector<IpAddr>{IpAddr::parse("10.0.0.1")}));
    EXPECT_EQ(view->lookup("c1@eth0"), (std::vector<IpAddr>{IpAddr::parse("10.0.0.2")}));
    EXPECT_EQ(view->lookup("c1@eth01"), (std::vector<IpAddr>{IpAddr::parse("10.0.0.3")}));
}

TEST(SnapshotTest, EmptyAndTorn) {
    std::string empty = format_snapshot({});
    auto view = SnapshotView::parse(empty);
    ASSERT_TRUE(view);
    EXPECT_TRUE(view->lookup("x@eth0").empty());
    std::string text = format_snapshot({{"c1@eth0", IpAddr::parse("10.0.0.2")}});
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
        EXPECT_FALSE(SnapshotView::parse(text.substr(0, cut))) << cut;
    }
    EXPECT_FALSE(SnapshotView::parse(""));
    std::string mangled = text;
    mangled.replace(mangled.find("10.0.0.2\n"), 9, "10.0.0.2x");
    EXPECT_FALSE(SnapshotView::parse(mangled.substr(0, mangled.size())));
}

}  // namespace
}  // namespace ipam
