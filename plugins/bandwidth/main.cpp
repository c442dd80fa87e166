#include "plugins/bandwidth/bandwidth.hpp"

int main(int argc, char** argv) {
    return cni::main({"bandwidth", bandwidth::add, bandwidth::del, bandwidth::check, bandwidth::gc,
                      bandwidth::status},
                     argc, argv, SDNET_VERSION);
}
