#include "revivectl.hpp"

#include <CLI/CLI.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "cert_commands.hpp"
#include "image_build.hpp"
#include "image_commands.hpp"
#include "intake_commands.hpp"
#include "kiosk_commands.hpp"
#include "partner_commands.hpp"
#include "remote_commands.hpp"
#include "run_tool.hpp"

namespace revive::ctl {

namespace {

std::atomic<bool> g_cancel{false};

// The first Ctrl-C (or SIGTERM, or a hang-up) asks the running operation to stop cleanly; a
// second one kills as usual, and first the build tool running in its own process group, which
// would otherwise run on without us.
extern "C" void on_signal(int sig) {
  if (!g_cancel.exchange(true)) return;
  kill_running_tool();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_cancel_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}

// Everything the option callbacks write into. CLI11 binds options by reference, so it lives
// until parsing (and the command it runs) is over.
struct Cli {
  ImageArgs a;
  RemoteArgs ra;
  BuildArgs ba;
  std::string chunk_size = "4M";
  bool no_progress = false;
  std::string steps_csv, policy_file, setting_key, setting_value;
  bool pdf = false;
  std::string verdict, note, cert_file;
  std::string label_batch, label_stock = "62mm", label_lang;
  std::string batch_profile;  ///< batches set --profile
  bool no_image = false, no_profile = false;
  std::vector<std::string> cert_pubkeys;
  int rc = 0;

  void store_options(CLI::App* c) {
    c->add_option("--store", a.store, "Image store directory (default: $REVIVE_STORE)");
    c->add_option("--threads", a.threads, "Worker threads (default: one per core)");
    c->add_flag("--no-progress", no_progress, "No progress bar");
  }
  void server_options(CLI::App* c) {
    c->add_option(
        "--server", ra.server,
        "Server URL (default: $REVIVE_SERVER, the saved login, or http://127.0.0.1:8080)");
    c->add_option("--token", ra.token,
                  "Operator token (default: $REVIVE_TOKEN or the saved login)");
  }
  // Runs `command` when the subcommand is given without one of its own subcommands.
  void on_bare(CLI::App* c, std::function<int()> command) {
    c->callback([this, c, command = std::move(command)] {
      if (c->get_subcommands().empty()) rc = command();
    });
  }
};

// `image import|export|verify|info`: offline work on a store directory.
void add_image_store_commands(CLI::App* image, Cli& cli) {
  ImageArgs& a = cli.a;
  auto* imp =
      image->add_subcommand("import",
                            "Import a disk: raw image or block device (read-only), qcow2/VMDK/"
                            "VHD(X)/VDI, or a Clonezilla image directory");
  cli.store_options(imp);
  imp->add_option("--name", a.name, "Image name")->required();
  imp->add_option("--chunk-size", cli.chunk_size, "Largest chunk, a power of two from 64K to 64M")
      ->default_str("4M");
  imp->add_flag("--content-chunks", a.content_chunks,
                "Cut chunks where the content says, not at multiples of the chunk size: a disk "
                "rebuilt from files (data moved by whole blocks) finds most chunks again; "
                "more, smaller chunks (manifest version 2)");
  imp->add_option("--level", a.level, "zstd level")->check(CLI::Range(1, 19))->default_str("3");
  imp->add_flag("--replace", a.replace, "Replace an existing image of that name");
  imp->add_flag("--raw", a.raw,
                "Import the file byte for byte, even when it does not look like a disk");
  imp->add_flag("--no-space-check", a.no_space_check,
                "Import even when the data looks bigger than the store's free space");
  imp->add_option("file", a.file, "Disk image, block device or Clonezilla image directory")
      ->required();
  imp->callback([&cli, &a] {
    auto cs = parse_size(cli.chunk_size);
    if (!cs) throw CLI::ValidationError("--chunk-size", "not a size: " + cli.chunk_size);
    a.chunk_size = *cs;
    a.progress = !cli.no_progress;
    install_cancel_handler();
    cli.rc = image_import(a, g_cancel);
  });

  auto* exp = image->add_subcommand("export", "Write an image out as a raw (sparse) file");
  cli.store_options(exp);
  exp->add_flag("--force", a.force, "Overwrite OUT if it exists");
  exp->add_option("--pubkey", a.pubkey, "Trust this public key file instead of the store's");
  exp->add_option("name", a.name, "Image name")->required();
  exp->add_option("out", a.file, "Output file")->required();
  exp->callback([&cli, &a] {
    a.progress = !cli.no_progress;
    install_cancel_handler();
    cli.rc = image_export(a, g_cancel);
  });

  auto* ver = image->add_subcommand("verify", "Check an image's signature and every chunk");
  cli.store_options(ver);
  ver->add_option("--pubkey", a.pubkey, "Trust this public key file instead of the store's");
  ver->add_flag("--all", a.all, "Every image, and every chunk file in the store");
  ver->add_option("name", a.name, "Image name");
  ver->callback([&cli, &a] {
    a.progress = !cli.no_progress;
    cli.rc = image_verify(a);
  });

  auto* info = image->add_subcommand("info", "Describe an image");
  cli.store_options(info);
  info->add_option("--pubkey", a.pubkey, "Trust this public key file instead of the store's");
  info->add_flag("--json", a.json, "Print the signed manifest body as JSON");
  info->add_option("name", a.name, "Image name")->required();
  info->callback([&cli, &a] { cli.rc = image_info(a); });
}

// `image build RECIPE`: a recipe (image-recipes/) into an image in a store or on a server.
void add_image_build_command(CLI::App* image, Cli& cli) {
  BuildArgs& b = cli.ba;
  auto* build = image->add_subcommand(
      "build", "Build an image from a recipe (mmdebstrap, mkfs, sgdisk, GRUB, shim) and import it");
  build->add_option("recipe", b.recipe, "recipe.toml or its directory (image-recipes/NAME)")
      ->required();
  build->add_option("--store", b.store, "Import into this store directory");
  build->add_option("--server", b.server, "Push to this server instead");
  build->add_option("--token", b.token, "Operator token for --server");
  build->add_option("--name", b.name, "Image name (default: the recipe's name)");
  build->add_option("--cache", b.deb_cache,
                    "Where downloaded .debs are kept between builds (default: "
                    "$REVIVE_RECIPE_CACHE, /var/cache/revive-recipes as root, else "
                    "$XDG_CACHE_HOME/revive-recipes)");
  build->add_option("--disk", b.disk_out, "Keep the built raw disk in this file");
  build->add_option("--work", b.work, "Work directory (kept; default: a temp dir, removed)");
  build->add_option("--report", b.report, "Build report path (default: next to the image)");
  build->add_flag("--replace", b.replace, "Replace the previous build of the image");
  build->add_option("--threads", b.threads, "Import worker threads (default: one per core)");
  build->add_flag("--no-progress", cli.no_progress, "No progress bar");
  build->callback([&cli, &b] {
    b.progress = !cli.no_progress;
    install_cancel_handler();
    cli.rc = image_build(b, g_cancel);
  });
}

// `image list|rm|push|gc|key`: the commands that work on a store or on a server.
void add_image_catalog_commands(CLI::App* image, Cli& cli) {
  ImageArgs& a = cli.a;
  RemoteArgs& ra = cli.ra;
  auto* list = image->add_subcommand(
      "list", "List the images in a store (--store) or on a server (--server)");
  cli.store_options(list);
  cli.server_options(list);
  list->callback([&cli, &a, &ra] {
    cli.rc = a.store.empty() ? remote_get_json(ra, "/api/v1/images") : image_list(a);
  });

  auto* rm = image->add_subcommand(
      "rm", "Remove an image from a store (--store) or a server (--server); chunks stay until gc");
  cli.store_options(rm);
  cli.server_options(rm);
  rm->add_option("name", a.name, "Image name")->required();
  rm->callback([&cli, &a, &ra] {
    ra.id = a.name;
    cli.rc = a.store.empty() ? remote_image_rm(ra) : image_rm(a);
  });

  auto* push =
      image->add_subcommand("push", "Upload a raw disk image to a server, streamed into its store");
  cli.server_options(push);
  push->add_option("--name", ra.id, "Image name")->required();
  push->add_flag("--replace", ra.replace, "Replace an existing image of that name");
  push->add_flag("--raw", ra.raw,
                 "Import the file byte for byte, even when it does not look like a disk");
  push->add_flag("--no-space-check", ra.no_space_check,
                 "Import even when the data looks bigger than the store's free space");
  push->add_option("file", ra.file, "Raw disk image")->required();
  push->callback([&cli, &ra] { cli.rc = remote_image_push(ra); });

  auto* gc = image->add_subcommand("gc", "Delete chunks no image uses, and leftover temp files");
  cli.store_options(gc);
  gc->add_flag("--dry-run", a.dry_run, "Only report what would be removed");
  gc->callback([&cli, &a] { cli.rc = image_gc(a); });

  auto* key = image->add_subcommand("key", "Print the store's public key (to verify elsewhere)");
  cli.store_options(key);
  key->callback([&cli, &a] { cli.rc = image_key(a); });
}

// `devices [show|retry|skip|cancel|restart|assign]`.
void add_device_commands(CLI::App& app, Cli& cli) {
  RemoteArgs& ra = cli.ra;
  auto* devices = app.add_subcommand("devices", "Laptops known to the server");
  devices->require_subcommand(0, 1);
  cli.server_options(devices);
  auto* dshow = devices->add_subcommand("show", "One laptop with its steps and results");
  dshow->add_option("id", ra.id, "Device id")->required();
  dshow->callback([&cli, &ra] { cli.rc = remote_get_json(ra, "/api/v1/devices/" + ra.id); });
  for (const char* verb : {"retry", "skip"}) {
    auto* c = devices->add_subcommand(
        verb, std::string(verb) + " a failed step (by step id, see `devices show`)");
    c->add_option("step", ra.id, "Step id")->required();
    c->callback([&cli, &ra, verb] {
      cli.rc = remote_post(ra, "/api/v1/steps/" + ra.id + "/" + verb, "{}");
    });
  }
  for (const char* verb : {"cancel", "restart"}) {
    auto* c = devices->add_subcommand(verb, std::string(verb) + " a laptop's workflow");
    c->add_option("id", ra.id, "Device id")->required();
    c->callback([&cli, &ra, verb] {
      cli.rc = remote_post(ra, "/api/v1/devices/" + ra.id + "/" + verb, "{}");
    });
  }
  auto* accept = devices->add_subcommand(
      "accept-enrolment",
      "Let a second machine enrol as this laptop (its current agent is cut off)");
  accept->add_option("id", ra.id, "Device id")->required();
  accept->callback([&cli, &ra] {
    cli.rc = remote_post(ra, "/api/v1/devices/" + ra.id + "/accept-enrolment", "{}");
  });
  auto* assign =
      devices->add_subcommand("assign", "Put a laptop in a batch and/or give it its own workflow");
  assign->add_option("id", ra.id, "Device id")->required();
  assign->add_option("--batch", ra.batch, "Batch name");
  assign->add_option("--workflow", ra.workflow, "Workflow name");
  assign->callback([&cli, &ra] {
    cli.rc = remote_post_fields(ra, "/api/v1/devices/" + ra.id + "/assign",
                                {{"batch", ra.batch}, {"workflow", ra.workflow}});
  });
  cli.on_bare(devices, [&ra] { return remote_devices(ra); });
}

// `batches [create|set]` and `workflows [put|default]`.
void add_batch_and_workflow_commands(CLI::App& app, Cli& cli) {
  RemoteArgs& ra = cli.ra;
  auto* batches = app.add_subcommand("batches", "Donor batches");
  batches->require_subcommand(0, 1);
  cli.server_options(batches);
  auto* bcreate = batches->add_subcommand("create", "Create a batch");
  bcreate->add_option("name", ra.id, "Batch name")->required();
  bcreate->add_option("--donor", ra.donor, "Donor organisation");
  bcreate->add_option("--workflow", ra.workflow, "Workflow for its laptops");
  bcreate->add_option("--image", ra.image, "Image for its laptops");
  bcreate->callback([&cli, &ra] {
    cli.rc = remote_post_fields(
        ra, "/api/v1/batches",
        {{"name", ra.id}, {"donor", ra.donor}, {"workflow", ra.workflow}, {"image", ra.image}});
  });
  auto* bset = batches->add_subcommand(
      "set", "Set a batch's image and/or recipient profile (a named one, see the settings page)");
  bset->add_option("name", ra.id, "Batch name")->required();
  auto* img = bset->add_option("--image", ra.image, "Image its laptops install (must be stored)");
  bset->add_flag("--no-image", cli.no_image, "No image")->excludes(img);
  auto* prof = bset->add_option("--profile", cli.batch_profile, "Named recipient profile");
  bset->add_flag("--no-profile", cli.no_profile, "No named recipient profile")->excludes(prof);
  bset->callback([&cli, &ra] {
    std::optional<std::string> image, profile;
    if (!ra.image.empty() || cli.no_image) image = ra.image;
    if (!cli.batch_profile.empty() || cli.no_profile) profile = cli.batch_profile;
    if (!image && !profile) {
      fmt::print(stderr,
                 "revivectl: error: give --image/--no-image and/or --profile/--no-profile\n");
      cli.rc = 2;
      return;
    }
    cli.rc = remote_update_batch(ra, image, profile);
  });
  cli.on_bare(batches, [&ra] { return remote_get_json(ra, "/api/v1/batches"); });

  auto* workflows = app.add_subcommand("workflows", "List workflows, define one, pick the default");
  workflows->require_subcommand(0, 1);
  cli.server_options(workflows);
  auto* wput = workflows->add_subcommand("put", "Create or change a workflow");
  wput->add_option("name", ra.id, "Workflow name")->required();
  wput->add_option("--steps", cli.steps_csv,
                   "Comma-separated steps, e.g. inventory,wipe,test,certify,finish")
      ->required();
  wput->callback([&cli, &ra] { cli.rc = remote_put_workflow(ra, cli.steps_csv); });
  auto* wdef =
      workflows->add_subcommand("default", "Make a workflow the default for unknown laptops");
  wdef->add_option("name", ra.id, "Workflow name")->required();
  wdef->callback([&cli, &ra] {
    cli.rc = remote_post_fields(ra, "/api/v1/settings", {{"default_workflow", ra.id}});
  });
  cli.on_bare(workflows, [&ra] { return remote_get_json(ra, "/api/v1/workflows"); });
}

// `login`, `policy`, `token`, `watch`, `export`: the workshop's settings and views.
void add_workshop_commands(CLI::App& app, Cli& cli) {
  RemoteArgs& ra = cli.ra;
  auto* login = app.add_subcommand("login", "Log in to a server and save the session");
  cli.server_options(login);
  login->add_option("--user", ra.user, "Operator name")->required();
  login->add_option("--fingerprint", ra.fingerprint,
                    "The server's TLS key pin (sha256//..., as revive-server prints it at "
                    "start): pinned without asking (https:// servers; default: shown on first "
                    "use and confirmed at the terminal)");
  login->callback([&cli, &ra] { cli.rc = remote_login(ra); });

  auto* policy =
      app.add_subcommand("policy", "Set the workshop's grading policy (TOML; see README)");
  cli.server_options(policy);
  policy->add_option("file", cli.policy_file, "TOML file")->required()->check(CLI::ExistingFile);
  policy->callback([&cli, &ra] {
    std::ifstream in(cli.policy_file);
    std::stringstream text;
    text << in.rdbuf();
    cli.rc = remote_post_fields(ra, "/api/v1/settings", {{"grading_policy", text.str()}});
  });

  auto* settings = app.add_subcommand("settings", "Change one of the workshop's settings");
  settings->require_subcommand(1);
  auto* set = settings->add_subcommand(
      "set",
      "Set a setting: workshop_name, certificate_operator, screen_language (en, nl, fr), "
      "public_url (where the world reaches this server: label links), reverify_share");
  cli.server_options(set);
  set->add_option("key", cli.setting_key, "Setting")
      ->required()
      ->check(CLI::IsMember({"workshop_name", "certificate_operator", "screen_language",
                             "public_url", "reverify_share"}));
  set->add_option("value", cli.setting_value, "Its value (\"\" clears public_url)")->required();
  set->callback([&cli, &ra] {
    cli.rc = remote_post_fields(ra, "/api/v1/settings", {{cli.setting_key, cli.setting_value}});
  });

  auto* token = app.add_subcommand("token", "Create an API token for scripts (printed once)");
  cli.server_options(token);
  token->add_option("--label", ra.label, "What the token is for");
  token->callback([&cli, &ra] {
    cli.rc = remote_post_fields(ra, "/api/v1/tokens", {{"label", ra.label}});
  });

  auto* watch =
      app.add_subcommand("watch", "A live table of laptops: stage, progress bar, rate, ETA");
  cli.server_options(watch);
  watch->add_flag("--once", ra.once, "Print the table once and exit");
  watch->add_option("--interval", ra.interval, "Seconds between refreshes")->default_str("1");
  watch->callback([&cli, &ra] { cli.rc = remote_watch(ra); });

  auto* exp = app.add_subcommand("export", "Export devices and results (CSV or JSON)");
  cli.server_options(exp);
  exp->add_option("--format", ra.format, "csv or json")->default_str("json");
  exp->add_option("-o,--output", ra.file, "Output file (default: stdout)");
  exp->callback([&cli, &ra] { cli.rc = remote_export(ra); });
}

// `cert list|get|validate|batch` against a server.
void add_cert_server_commands(CLI::App* cert, Cli& cli) {
  RemoteArgs& ra = cli.ra;
  auto* clist = cert->add_subcommand("list", "A laptop's certificates (by device id)");
  cli.server_options(clist);
  clist->add_option("DEVICE", ra.id, "Device id")->required();
  clist->callback(
      [&cli, &ra] { cli.rc = remote_get_json(ra, "/api/v1/devices/" + ra.id + "/certificates"); });
  auto* cget =
      cert->add_subcommand("get", "Fetch a signed certificate (JSON, or the PDF with --pdf)");
  cli.server_options(cget);
  cget->add_option("ID", ra.id, "Certificate id")->required();
  cget->add_flag("--pdf", cli.pdf, "The printable PDF (it carries the signed JSON inside)");
  cget->add_option("-o,--output", ra.file, "Output file (default: stdout)");
  cget->callback([&cli, &ra] {
    cli.rc = remote_get_file(ra, "/api/v1/certificates/" + ra.id + (cli.pdf ? "/pdf" : ""));
  });
  auto* cval = cert->add_subcommand(
      "validate",
      "Record a second volunteer's re-verification (issues a certificate that supersedes it)");
  cli.server_options(cval);
  cval->add_option("ID", ra.id, "Certificate id")->required();
  cval->add_option("--verdict", cli.verdict, "confirmed or disputed")
      ->required()
      ->check(CLI::IsMember({"confirmed", "disputed"}));
  cval->add_option("--note", cli.note, "What was checked, or what was wrong");
  cval->callback([&cli, &ra] {
    cli.rc = remote_post_fields(ra, "/api/v1/certificates/" + ra.id + "/validate",
                                {{"verdict", cli.verdict}, {"note", cli.note}});
  });
  auto* cbatch =
      cert->add_subcommand("batch", "The donor's summary for a batch: signed JSON, CSV or PDF");
  cli.server_options(cbatch);
  cbatch->add_option("BATCH", ra.id, "Batch name")->required();
  cbatch->add_option("--format", ra.format, "json, csv or pdf")
      ->default_str("json")
      ->check(CLI::IsMember({"json", "csv", "pdf"}));
  cbatch->add_option("-o,--output", ra.file, "Output file (default: stdout)");
  cbatch->callback([&cli, &ra] {
    cli.rc = remote_get_file(ra, "/api/v1/batches/" + ra.id + "/certificate?format=" + ra.format);
  });
}

// `label`: one laptop's label, or every certified laptop of a batch, as a PDF to print.
void add_label_command(CLI::App& app, Cli& cli) {
  RemoteArgs& ra = cli.ra;
  auto* label = app.add_subcommand(
      "label", "Print labels: a laptop's (by device id) or a batch's (--batch), as a PDF");
  cli.server_options(label);
  label->add_option("DEVICE", ra.id, "Device id");
  label->add_option("--batch", cli.label_batch, "Every certified laptop of this batch");
  label->add_option("--stock", cli.label_stock, "62mm (continuous tape) or a4 (3 x 8 sheet)")
      ->default_str("62mm")
      ->check(CLI::IsMember({"62mm", "a4"}));
  label->add_option("--lang", cli.label_lang, "en, nl or fr (default: the workshop's)")
      ->check(CLI::IsMember({"en", "nl", "fr"}));
  label->add_option("-o,--output", ra.file, "Output file (default: stdout)");
  label->callback([&cli, &ra] {
    if (ra.id.empty() == cli.label_batch.empty()) {
      fmt::print(stderr, "revivectl: error: give a DEVICE id or --batch NAME (one of them)\n");
      cli.rc = 2;
      return;
    }
    const std::string query =
        "?stock=" + cli.label_stock + (cli.label_lang.empty() ? "" : "&lang=" + cli.label_lang);
    cli.rc = remote_get_file(ra, cli.label_batch.empty()
                                     ? "/api/v1/devices/" + ra.id + "/label" + query
                                     : "/api/v1/batches/" + cli.label_batch + "/labels" + query);
  });
}

// `cert verify`: offline, needs only the file and the workshop's public key.
void add_cert_verify_command(CLI::App* cert, Cli& cli) {
  auto* cver = cert->add_subcommand(
      "verify",
      "Check a certificate (JSON or PDF) offline: exit 0 only when authentic and untouched");
  cver->add_option("FILE", cli.cert_file, "Certificate file")->required();
  cver->add_option("--pubkey", cli.cert_pubkeys,
                   "The workshop server's certificate key file (GET /api/v1/certificate-key, or "
                   "STATE/certificate-key/ed25519.pub); repeat it to also trust the store key "
                   "(GET /api/v1/public-key), which signed certificates issued before the "
                   "server had a certificate key")
      ->required();
  cver->callback([&cli] { cli.rc = cert_verify(cli.cert_file, cli.cert_pubkeys); });
}

}  // namespace

int run_revivectl(int argc, char** argv) {
  CLI::App app{"revivectl: operator tool for Revive, the laptop refurbishment imaging appliance"};
  app.set_version_flag("--version", std::string("revivectl ") + REVIVE_VERSION);
  app.require_subcommand(1);

  Cli cli;
  if (const char* env = std::getenv("REVIVE_STORE")) cli.a.store = env;

  auto* image = app.add_subcommand("image", "Work with disk images in a store directory (offline)");
  image->require_subcommand(1);
  add_image_store_commands(image, cli);
  add_image_catalog_commands(image, cli);
  add_image_build_command(image, cli);
  add_device_commands(app, cli);
  add_batch_and_workflow_commands(app, cli);
  add_workshop_commands(app, cli);
  add_intake_commands(app, cli.ra, cli.rc, [&cli](CLI::App* c) { cli.server_options(c); });
  add_kiosk_commands(app, cli.ra, cli.rc, [&cli](CLI::App* c) { cli.server_options(c); });
  add_partner_commands(app, cli.ra, cli.rc, [&cli](CLI::App* c) { cli.server_options(c); });
  auto* cert = app.add_subcommand("cert", "Erasure certificates: list, fetch, verify offline");
  cert->require_subcommand(1);
  add_cert_server_commands(cert, cli);
  add_cert_verify_command(cert, cli);
  add_label_command(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return cli.rc;
}

}  // namespace revive::ctl
