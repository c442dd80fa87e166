#include "plugins/tuning/tuning.hpp"

int main() {
    return cni::main({"tuning", tuning::add, tuning::del, tuning::check, tuning::gc, {}});
}
