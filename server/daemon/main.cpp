#include "app/app.hpp"

int main(int argc, char** argv) { return revive::server::run_server_main(argc, argv); }
