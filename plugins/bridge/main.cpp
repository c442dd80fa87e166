#include "plugins/bridge/bridge.hpp"

int main(int argc, char** argv) {
    return cni::main(
        {"bridge", bridge::add, bridge::del, bridge::check, bridge::gc, bridge::status}, argc, argv,
        SDNET_VERSION);
}
