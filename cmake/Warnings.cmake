# Strict warnings for our own targets. Kernel macros (NLMSG_*, RTA_*) trip -Wold-style-cast and
# -Wsign-conversion, so netlib files that use them opt out locally with pragmas.
function(sdnet_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
        -Wimplicit-fallthrough -Wformat=2 -Wnull-dereference -Wconversion -Wno-sign-conversion)
endfunction()

# Executables started per CNI call link libstdc++ statically: saves ~2 ms of dynamic relocation.
function(sdnet_fast_start target)
    if(SDNET_STATIC_DEPS)
        target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc)
    endif()
endfunction()
