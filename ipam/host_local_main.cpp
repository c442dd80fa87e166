#include "ipam/host_local.hpp"
#include "plugins/cni/skel.hpp"

int main() {
    return cni::main(ipam::host_local_plugin());
}
