#include "revivectl.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>

#include "image_commands.hpp"

namespace revive::ctl {

namespace {

std::atomic<bool> g_cancel{false};

extern "C" void on_signal(int) { g_cancel.store(true); }

// First Ctrl-C asks the running operation to stop cleanly; a second one kills as usual.
void install_cancel_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = static_cast<int>(SA_RESETHAND);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

int run_revivectl(int argc, char** argv) {
  CLI::App app{"revivectl: operator tool for Revive, the laptop refurbishment imaging appliance"};
  app.set_version_flag("--version", std::string("revivectl ") + REVIVE_VERSION);
  app.require_subcommand(1);

  ImageArgs a;
  if (const char* env = std::getenv("REVIVE_STORE")) a.store = env;
  std::string chunk_size = "4M";
  bool no_progress = false;
  int rc = 0;

  auto* image = app.add_subcommand("image", "Work with disk images in a store directory (offline)");
  image->require_subcommand(1);
  auto store_opt = [&](CLI::App* c) {
    c->add_option("--store", a.store, "Image store directory (default: $REVIVE_STORE)");
    c->add_option("--threads", a.threads, "Worker threads (default: one per core)");
    c->add_flag("--no-progress", no_progress, "No progress bar");
  };

  auto* imp = image->add_subcommand("import", "Import a raw disk image (file or block device, read-only)");
  store_opt(imp);
  imp->add_option("--name", a.name, "Image name")->required();
  imp->add_option("--chunk-size", chunk_size, "Chunk size, a power of two from 64K to 64M")->default_str("4M");
  imp->add_option("--level", a.level, "zstd level")->check(CLI::Range(1, 19))->default_str("3");
  imp->add_flag("--replace", a.replace, "Replace an existing image of that name");
  imp->add_option("file", a.file, "Raw disk image or block device")->required();
  imp->callback([&] {
    auto cs = parse_size(chunk_size);
    if (!cs) throw CLI::ValidationError("--chunk-size", "not a size: " + chunk_size);
    a.chunk_size = *cs;
    a.progress = !no_progress;
    install_cancel_handler();
    rc = image_import(a, g_cancel);
  });

  auto* exp = image->add_subcommand("export", "Write an image out as a raw (sparse) file");
  store_opt(exp);
  exp->add_flag("--force", a.force, "Overwrite OUT if it exists");
  exp->add_option("--pubkey", a.pubkey, "Trust this public key file instead of the store's");
  exp->add_option("name", a.name, "Image name")->required();
  exp->add_option("out", a.file, "Output file")->required();
  exp->callback([&] {
    a.progress = !no_progress;
    install_cancel_handler();
    rc = image_export(a, g_cancel);
  });

  auto* ver = image->add_subcommand("verify", "Check an image's signature and every chunk");
  store_opt(ver);
  ver->add_option("--pubkey", a.pubkey, "Trust this public key file instead of the store's");
  ver->add_flag("--all", a.all, "Every image, and every chunk file in the store");
  ver->add_option("name", a.name, "Image name");
  ver->callback([&] {
    a.progress = !no_progress;
    rc = image_verify(a);
  });

  auto* info = image->add_subcommand("info", "Describe an image");
  store_opt(info);
  info->add_option("--pubkey", a.pubkey, "Trust this public key file instead of the store's");
  info->add_flag("--json", a.json, "Print the signed manifest body as JSON");
  info->add_option("name", a.name, "Image name")->required();
  info->callback([&] { rc = image_info(a); });

  auto* list = image->add_subcommand("list", "List the images in a store");
  store_opt(list);
  list->callback([&] { rc = image_list(a); });

  auto* rm = image->add_subcommand("rm", "Remove an image (chunks stay until gc)");
  store_opt(rm);
  rm->add_option("name", a.name, "Image name")->required();
  rm->callback([&] { rc = image_rm(a); });

  auto* gc = image->add_subcommand("gc", "Delete chunks no image uses, and leftover temp files");
  store_opt(gc);
  gc->add_flag("--dry-run", a.dry_run, "Only report what would be removed");
  gc->callback([&] { rc = image_gc(a); });

  auto* key = image->add_subcommand("key", "Print the store's public key (to verify elsewhere)");
  store_opt(key);
  key->callback([&] { rc = image_key(a); });

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
  return rc;
}

}  // namespace revive::ctl
