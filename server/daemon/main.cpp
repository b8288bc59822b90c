// revive-server: the workshop imaging daemon. The HTTP API, persistent workflows and boot
// services are built in issue #3; until then this binary only says so and fails, so nothing
// mistakes it for a running server.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("revive-server %s\n", REVIVE_VERSION);
      return 0;
    }
  }
  std::fprintf(stderr,
               "revive-server: the imaging server is not implemented yet (tracked in issue #3).\n"
               "For offline image work use `revivectl image --help`.\n");
  return 2;
}
