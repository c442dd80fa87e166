#include "ipam/static_ipam.hpp"
#include "plugins/cni/skel.hpp"

int main() {
    return cni::main(ipam::static_plugin());
}
