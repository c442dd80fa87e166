#include "plugins/firewall/firewall.hpp"

int main(int argc, char** argv) {
    return cni::main(
        {"firewall", firewall::add, firewall::del, firewall::check, firewall::gc, firewall::status},
        argc, argv, SDNET_VERSION);
}
