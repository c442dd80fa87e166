#include "plugins/firewall/firewall.hpp"

int main() {
    return cni::main({"firewall", firewall::add, firewall::del, firewall::check, firewall::gc,
                      firewall::status});
}
