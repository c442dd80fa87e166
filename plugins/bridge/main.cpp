#include "plugins/bridge/bridge.hpp"

int main() {
    return cni::main(
        {"bridge", bridge::add, bridge::del, bridge::check, bridge::gc, bridge::status});
}
