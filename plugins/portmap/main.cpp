#include "plugins/portmap/portmap.hpp"

int main(int argc, char** argv) {
    return cni::main(
        {"portmap", portmap::add, portmap::del, portmap::check, portmap::gc, portmap::status}, argc,
        argv, SDNET_VERSION);
}
