# Warnings as an interface target. -Werror only when asked (dev and CI presets), never for
# packagers whose newer compilers add warnings we have not seen yet.
option(REVIVE_WERROR "Treat warnings as errors" OFF)

add_library(revive_warnings INTERFACE)
target_compile_options(revive_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wimplicit-fallthrough
  -Wformat=2)
if(REVIVE_WERROR)
  target_compile_options(revive_warnings INTERFACE -Werror)
endif()
