// The concrete paths an agent asks for (revive/protocol.hpp, namespace path): the route
// patterns with the device, step or image filled in.

#include "revive/protocol.hpp"

namespace revive::protocol {

namespace path {
namespace {
std::string agent(std::int64_t device) { return "/api/v1/agents/" + std::to_string(device); }
}  // namespace
std::string enrol() { return std::string(route::kEnrol); }
std::string next(std::int64_t device, int wait_s) {
  return agent(device) + "/next?wait=" + std::to_string(wait_s);
}
std::string progress(std::int64_t device) { return agent(device) + "/progress"; }
std::string events(std::int64_t device) { return agent(device) + "/events"; }
std::string checkpoint(std::int64_t device, std::int64_t step) {
  return agent(device) + "/steps/" + std::to_string(step) + "/checkpoint";
}
std::string result(std::int64_t device, std::int64_t step) {
  return agent(device) + "/steps/" + std::to_string(step) + "/result";
}
std::string certificates(std::int64_t device) { return agent(device) + "/certificates"; }
std::string relay(std::int64_t device) { return agent(device) + "/relay"; }
std::string manifest(std::string_view image) {
  return "/api/v1/images/" + std::string(image) + "/manifest";
}
std::string chunk(std::string_view sha256_hex) { return "/chunks/" + std::string(sha256_hex); }
std::string relay_stream(std::size_t position) { return "/stream/" + std::to_string(position); }
}  // namespace path

}  // namespace revive::protocol
