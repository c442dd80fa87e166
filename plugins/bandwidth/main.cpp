#include "plugins/bandwidth/bandwidth.hpp"

int main() {
    return cni::main({"bandwidth", bandwidth::add, bandwidth::del, bandwidth::check, bandwidth::gc,
                      bandwidth::status});
}
