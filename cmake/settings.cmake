# Project-wide settings as an interface target (linked PRIVATE by every first-party target),
# so nothing leaks into consumers and packagers can override flags from the command line.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

# ccache when present: rebuilds on 2 cores are dominated by unchanged translation units.
find_program(REVIVE_CCACHE ccache)
if(REVIVE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${REVIVE_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${REVIVE_CCACHE})
endif()

option(REVIVE_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

add_library(revive_settings INTERFACE)
target_compile_definitions(revive_settings INTERFACE _FILE_OFFSET_BITS=64
  REVIVE_VERSION="${PROJECT_VERSION}")
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_definitions(revive_settings INTERFACE REVIVE_DEBUG=1)
endif()
if(REVIVE_SANITIZE)
  target_compile_options(revive_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(revive_settings INTERFACE -fsanitize=address,undefined)
endif()
