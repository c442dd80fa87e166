#include "plugins/tuning/tuning.hpp"

int main(int argc, char** argv) {
    return cni::main({"tuning", tuning::add, tuning::del, tuning::check, tuning::gc, {}}, argc,
                     argv, SDNET_VERSION);
}
