# What `cmake --install` and `cpack -G DEB` put where, besides the executables (installed by
# their own folders): example conflists, man pages, bash completion; and the .deb's metadata.
#
#   cmake --build --preset release --target package     # or: cd build/release && cpack -G DEB
#
# gives build/release/sdnet_<version>_<arch>.deb: plugins in /opt/cni/bin (SDNET_CNI_INSTALL_DIR), sdnet
# and sdrun in /usr/bin, examples in /usr/share/doc/sdnet/examples, sdnet(8), sdnet-plugins(8)
# and sdrun(8), and /usr/share/bash-completion/completions/{sdnet,sdrun}. /opt/cni/bin, not /usr/lib/cni: Debian's
# containernetworking-plugins owns the files there, and /opt/cni/bin is where containerd, CRI-O
# and kubelet look by default.

file(GLOB sdnet_example_conflists ${PROJECT_SOURCE_DIR}/conf/*.conflist)
install(FILES ${sdnet_example_conflists} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY conf/containerd DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES conf/man/sdnet.8 conf/man/sdnet-plugins.8 conf/man/sdrun.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES conf/completion/sdnet conf/completion/sdrun
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sdnet)
set(CPACK_PACKAGE_VERSION ${SDNET_VERSION})
set(CPACK_PACKAGE_CONTACT "sdnet maintainers <sdnet@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "CNI plugins (bridge, portmap, bandwidth, firewall, tuning, host-local) and the sdnet CLI")
set(CPACK_PACKAGE_DESCRIPTION
    "Drop-in replacements for the reference CNI plugins, programming the kernel over netlink and
nftables, with the same configuration keys and on-disk state; and sdnet, which attaches
network namespaces to CNI networks as container runtimes do.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
# The plugins program nftables over netlink; nft itself is only useful for looking.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nftables, containerd | podman")
include(CPack)
