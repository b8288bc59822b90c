#include "app/app.hpp"

// The heap is mimalloc's, linked in by server/CMakeLists.txt: nothing to set up here.
int main(int argc, char** argv) { return revive::server::run_server_main(argc, argv); }
