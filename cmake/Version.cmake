# SDNET_VERSION: what `--version` prints and what the .deb is versioned as.
#   - on a tag vX.Y.Z:                 X.Y.Z
#   - N commits after tag vX.Y.Z:      X.Y.Z+N.g<hash>
#   - in a git checkout without tags:  <project version>+g<hash>
#   - not a git checkout (a tarball):  <project version>
# Debian orders "+" after the plain version, so each of these sorts after the release it builds
# on. The value is computed at configure time; every commit re-runs configure (the reflog of
# HEAD is a configure dependency), so a build never reports an older commit than it was built from.
function(sdnet_version out)
    set(version ${PROJECT_VERSION})
    find_package(Git QUIET)
    if(GIT_FOUND)
        execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --git-path logs/HEAD
                        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} RESULT_VARIABLE not_git
                        OUTPUT_VARIABLE head_log OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    endif()
    if(GIT_FOUND AND NOT not_git)
        execute_process(COMMAND ${GIT_EXECUTABLE} describe --tags --match "v[0-9]*" --long
                        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} RESULT_VARIABLE no_tag
                        OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
        if(NOT no_tag AND described MATCHES "^v(.+)-([0-9]+)-(g[0-9a-f]+)$")
            set(version ${CMAKE_MATCH_1})
            if(NOT CMAKE_MATCH_2 STREQUAL "0")
                set(version "${version}+${CMAKE_MATCH_2}.${CMAKE_MATCH_3}")
            endif()
        else()
            execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short HEAD
                            WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                            OUTPUT_VARIABLE hash OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
            if(hash)
                set(version "${version}+g${hash}")
            endif()
        endif()
        get_filename_component(head_log ${head_log} ABSOLUTE BASE_DIR ${PROJECT_SOURCE_DIR})
        if(EXISTS ${head_log})
            set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                                                                         ${head_log})
        endif()
    endif()
    set(${out} ${version} PARENT_SCOPE)
endfunction()
