#include "app/app.hpp"
#include "revive/heap_policy.hpp"

int main(int argc, char** argv) {
  revive::keep_freed_heap();
  return revive::server::run_server_main(argc, argv);
}
