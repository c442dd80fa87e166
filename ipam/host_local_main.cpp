#include "ipam/host_local.hpp"
#include "plugins/cni/skel.hpp"

int main() {
    return cni::main({.name = "host-local",
                      .add = ipam::host_local_add,
                      .del = ipam::host_local_del,
                      .check = ipam::host_local_check,
                      .gc = ipam::host_local_gc,
                      .status = ipam::host_local_status});
}
