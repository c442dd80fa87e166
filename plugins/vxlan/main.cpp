#include "plugins/vxlan/vxlan.hpp"

int main(int argc, char** argv) {
    return cni::main({"vxlan", vxlan::add, vxlan::del, vxlan::check, vxlan::gc, vxlan::status},
                     argc, argv, SDNET_VERSION);
}
