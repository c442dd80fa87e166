#include "ipam/host_local.hpp"
#include "plugins/cni/skel.hpp"

int main(int argc, char** argv) {
    return cni::main(ipam::host_local_plugin(), argc, argv, SDNET_VERSION);
}
