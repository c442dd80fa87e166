# Strict warnings for our own targets. Kernel macros (NLMSG_*, RTA_*) trip -Wold-style-cast and
# -Wsign-conversion, so netlib files that use them opt out locally with pragmas.
function(sdnet_warnings target)
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
        -Wimplicit-fallthrough -Wformat=2 -Wconversion -Wno-sign-conversion
        # GCC 12 at -O3 reports false -Wrestrict inside std::string operator+ (GCC PR 105651);
        # -Wnull-dereference is left out for the same reason (false positives in <streambuf>).
        # The same holds for -Wmaybe-uninitialized on std::variant members.
        $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict -Wno-maybe-uninitialized>
        # clang (the fuzz build): the kernel's uapi headers and netlink macros use
        # zero-length arrays.
        $<$<CXX_COMPILER_ID:Clang>:-Wno-zero-length-array -Wno-gnu-zero-variadic-macro-arguments>)
endfunction()

# Executables started per CNI call link libstdc++ statically (saves ~2 ms of dynamic relocation)
# and are not position-independent: a PIE plugin relocates ~4500 pointers at every start and
# copies the pages holding them (~10 more page faults, ~0.1 ms of a ~1.3 ms exec).
function(sdnet_fast_start target)
    if(SDNET_STATIC_DEPS)
        target_link_options(${target} PRIVATE -static-libstdc++ -static-libgcc -no-pie)
    endif()
endfunction()
