#include "plugins/cni/sha512.hpp"

#include <gtest/gtest.h>

namespace {

// Known answers from FIPS 180-2 appendix C and sha512sum; lengths around the 112/128-byte
// padding boundaries exercise the one- and two-block tails.
TEST(CniSha512, KnownAnswers) {
    EXPECT_EQ(cni::sha512_hex(""),
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
    EXPECT_EQ(cni::sha512_hex("abc"),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    EXPECT_EQ(cni::sha512_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                              "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
              "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
              "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
    EXPECT_EQ(cni::sha512_hex(std::string(111, 'x')),
              "9a2a120825c2319867758ec277924f6faa254968bf752046dacdd948d8ad299b"
              "10359fd04bfd7d3810b5fa1b16a294236138baff981cbb85248478053ac4d3dd");
    EXPECT_EQ(cni::sha512_hex(std::string(112, 'x')),
              "a3722b515ef40c910f2419f6e0da8ca51d410114ce6272faae64045f9e9f630e"
              "7fa8dd5a3243c9860b899d148c3da4bc0f9e07454542604d030bb55531fe0d5b");
    EXPECT_EQ(cni::sha512_hex(std::string(128, 'x')),
              "e2e22f8422b54b06e35c3ea30a383d1de7a8fbc27992923074103117020d8dd7"
              "024c3ecf7d6d1a15a6de5a75ff32fb486b9e8ced4c02ffe05822bf2cb734d0e0");
    EXPECT_EQ(cni::sha512_hex(std::string(239, 'x')),
              "805c40517b44cef414a06c632b4ee9c21d34c85a84c3f9530274db86e2a3e38c"
              "b0e54025666b925426bd6860f81538abbfab13011e85767d814a245d232a6044");
    EXPECT_EQ(cni::sha512_hex(std::string(1000000, 'a')),
              "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
              "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
}

}  // namespace
