#include "plugins/portmap/portmap.hpp"

int main() {
    return cni::main(
        {"portmap", portmap::add, portmap::del, portmap::check, portmap::gc, portmap::status});
}
