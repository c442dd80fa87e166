#include "ipam/static_ipam.hpp"
#include "plugins/cni/skel.hpp"

int main(int argc, char** argv) {
    return cni::main(ipam::static_plugin(), argc, argv, SDNET_VERSION);
}
