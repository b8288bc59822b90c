#pragma once
// revivectl's commands that talk to a running revive-server over HTTP (libcurl).

#include <optional>
#include <string>
#include <vector>

namespace revive::ctl {

struct RemoteArgs {
  std::string server;  ///< base URL, e.g. http://127.0.0.1:8080 (default $REVIVE_SERVER)
  std::string token;   ///< operator token (default: $REVIVE_TOKEN, else the saved login)
  std::string user;
  std::string fingerprint;  ///< login: the server's TLS key pin, given instead of asked for
  std::string pin;          ///< the TLS key pin the connection requires ("" for http://)
  std::string id;           ///< device/step id or image name
  std::string file;
  std::string format = "json";
  std::string batch, workflow, donor, image, label;
  bool replace = false;
  bool content_chunks = false;  ///< push: the server cuts chunks where the content says
  bool raw = false;             ///< push: imported byte for byte, even if not a disk
  bool no_space_check = false;  ///< push: tried even when the store looks too small
  bool once = false;            ///< watch: print one table and exit
  double interval = 1.0;
};

int remote_login(RemoteArgs a);
int remote_get_json(RemoteArgs a, const std::string& path);  ///< prints the JSON
int remote_post(RemoteArgs a, const std::string& path, const std::string& body);
/// POSTs a JSON object of the non-empty string fields.
int remote_post_fields(RemoteArgs a, const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& fields);
/// Sets batch a.id's image and/or named recipient profile (nullopt: unchanged; "": none).
int remote_update_batch(RemoteArgs a, const std::optional<std::string>& image,
                        const std::optional<std::string>& profile);
int remote_devices(RemoteArgs a);
/// Defines workflow a.id from "inventory,wipe,..." (one step each, no params).
int remote_put_workflow(RemoteArgs a, const std::string& steps_csv);  ///< table
int remote_export(const RemoteArgs& a);
/// GETs a path and writes the body to a.file (stdout when empty or "-").
int remote_get_file(const RemoteArgs& args, const std::string& path);
int remote_image_push(RemoteArgs a);
int remote_image_rm(RemoteArgs a);
int remote_watch(RemoteArgs a);
/// One call to the server (defaults filled in as for every command): 0 with the answer's body
/// in `answer` and the server's base URL in `server`, else the exit code after printing why.
int remote_request(RemoteArgs a, const std::string& method, const std::string& path,
                   const std::string& body, std::string& answer, std::string& server);

}  // namespace revive::ctl
