// The SOURCE cell of `revivectl watch`, from the device list's JSON.
#include <gtest/gtest.h>

#include "watch_source.hpp"

namespace revive::ctl {
namespace {

using json = nlohmann::json;

json deploying(const json& source) {
  return {{"id", 2}, {"serial", "SN02"}, {"current", {{"kind", "deploy"}, {"source", source}}}};
}

TEST(WatchSource, NamesTheSourceOfADeployingLaptop) {
  const json devices = json::array({{{"id", 1}, {"serial", "SN01"}}, deploying(json())});
  EXPECT_EQ(source_cell(deploying({{"kind", "server"}}), devices), "server");
  EXPECT_EQ(source_cell(deploying({{"kind", "peer"}, {"peer", 1}}), devices), "peer SN01");
  EXPECT_EQ(source_cell(deploying({{"kind", "peer"}, {"peer", 7}}), devices), "peer 7");
  EXPECT_EQ(source_cell(deploying({{"kind", "queued"}, {"place", 3}}), devices), "queued #3");
}

TEST(WatchSource, AfterTheDeployItShowsThePeersShare) {
  json done = {{"id", 2}, {"current", nullptr}};
  EXPECT_EQ(source_cell(done, json::array()), "-");
  done["delivery"] = {{"bytes_from_server", 250}, {"bytes_from_peers", 750}, {"replans", 1}};
  EXPECT_EQ(source_cell(done, json::array()), "done 75% peer");
  done["delivery"] = {{"bytes_from_server", 0}, {"bytes_from_peers", 0}};
  EXPECT_EQ(source_cell(done, json::array()), "-");
  EXPECT_EQ(source_cell(json("garbage"), json::array()), "-");
}

}  // namespace
}  // namespace revive::ctl
