#include "revive/agent/cmdline.hpp"

#include <vector>

namespace revive::agent {

BootParams parse_cmdline(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  bool quoted = false;
  bool have = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
      have = true;
    } else if (!quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      if (have) words.push_back(std::move(cur));
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) words.push_back(std::move(cur));

  BootParams p;
  for (const auto& w : words) {
    const auto eq = w.find('=');
    if (eq == std::string::npos) {
      p.all[w] = "";
    } else {
      p.all[w.substr(0, eq)] = w.substr(eq + 1);
    }
  }
  if (auto it = p.all.find("revive.agent"); it != p.all.end()) p.live_agent = it->second == "1";
  if (auto it = p.all.find("revive.server"); it != p.all.end() && !it->second.empty())
    p.server = it->second;
  if (auto it = p.all.find("revive.token"); it != p.all.end() && !it->second.empty())
    p.token = it->second;
  return p;
}

}  // namespace revive::agent
