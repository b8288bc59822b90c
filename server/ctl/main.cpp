#include "revivectl.hpp"

int main(int argc, char** argv) { return revive::ctl::run_revivectl(argc, argv); }
