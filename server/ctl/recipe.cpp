#include "recipe.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "image_commands.hpp"
#include "revive/manifest.hpp"

namespace revive::ctl {

namespace fs = std::filesystem;

namespace {

// Reads one recipe; every error names the file and the dotted field.
class RecipeReader {
 public:
  explicit RecipeReader(Recipe& r) : r_(r) {}

  Error bad(const std::string& field, const std::string& why) const {
    return Error{Errc::invalid_input, r_.file.filename().string() + ": " + field + ": " + why};
  }

  Result<void> read(const toml::table& t) {
    static const std::vector<std::string> kTop = {
        "name",     "description", "hostname", "base",       "disk",
        "packages", "locale",      "overlay",  "first_boot", "boot"};
    REVIVE_TRY(only_known("", t, kTop));
    REVIVE_TRY(text(t, "name", "name", r_.name, R"([a-z0-9][a-z0-9._-]{0,63})",
                    "an image name: lower-case letters, digits, '.', '_', '-'"));
    if (r_.name.empty()) return bad("name", "missing (the image's name in the store)");
    REVIVE_TRY(validate_image_name(r_.name));
    REVIVE_TRY(text(t, "description", "description", r_.description, R"([^\n]*)", "one line"));
    REVIVE_TRY(text(t, "hostname", "hostname", r_.hostname, R"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)",
                    "a host name label (letters, digits, '-')"));
    REVIVE_TRY(read_base(t));
    REVIVE_TRY(read_disk(t));
    REVIVE_TRY(read_packages(t));
    REVIVE_TRY(read_locale(t));
    REVIVE_TRY(read_overlay(t));
    REVIVE_TRY(read_first_boot(t));
    return read_boot(t);
  }

 private:
  Result<void> only_known(const std::string& prefix, const toml::table& t,
                          const std::vector<std::string>& known) const {
    for (auto&& [k, v] : t) {
      const std::string key(k.str());
      if (std::find(known.begin(), known.end(), key) == known.end())
        return bad(prefix + key, "unknown field (a typo?)");
    }
    return {};
  }

  // A string field matching `pattern`; absent leaves `out` at its default.
  Result<void> text(const toml::table& t, const char* key, const std::string& field,
                    std::string& out, const char* pattern, const std::string& expected) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    const auto* s = n->as_string();
    if (!s) return bad(field, "must be a string (" + expected + ")");
    if (!std::regex_match(s->get(), std::regex(pattern)))
      return bad(field, "\"" + s->get() + "\" is not " + expected);
    out = s->get();
    return {};
  }

  Result<void> flag(const toml::table& t, const char* key, const std::string& field,
                    bool& out) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    const auto* b = n->as_boolean();
    if (!b) return bad(field, "must be true or false");
    out = b->get();
    return {};
  }

  Result<void> size(const toml::table& t, const char* key, const std::string& field,
                    std::uint64_t& out) const {
    const toml::node* n = t.get(key);
    if (!n) return {};
    const auto* s = n->as_string();
    auto v = s ? parse_size(s->get()) : std::nullopt;
    if (!v) return bad(field, "must be a size in quotes, like \"4G\" or \"128M\"");
    if (*v % (1u << 20)) return bad(field, "must be a whole number of MiB");
    out = *v;
    return {};
  }

  Result<std::vector<std::string>> list(const toml::table& t, const char* key,
                                        const std::string& field, const char* pattern,
                                        const std::string& expected) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const auto* a = n->as_array();
    if (!a) return bad(field, "must be a list of strings");
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto* s = (*a)[i].as_string();
      const std::string item = field + "[" + std::to_string(i) + "]";
      if (!s) return bad(item, "must be a string (" + expected + ")");
      if (!std::regex_match(s->get(), std::regex(pattern)))
        return bad(item, "\"" + s->get() + "\" is not " + expected);
      out.push_back(s->get());
    }
    return out;
  }

  Result<const toml::table*> table(const toml::table& t, const char* key, bool required) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) return bad(key, "missing table [" + std::string(key) + "]");
      return static_cast<const toml::table*>(nullptr);
    }
    if (!n->as_table()) return bad(key, "must be a table [" + std::string(key) + "]");
    return n->as_table();
  }

  // A path inside the recipe's directory that must exist.
  Result<fs::path> recipe_file(const toml::table& t, const char* key, const std::string& field,
                               bool directory) const {
    std::string rel;
    REVIVE_TRY(text(t, key, field, rel, R"([A-Za-z0-9._/+-]+)", "a relative path"));
    if (rel.empty()) return fs::path();
    const fs::path p(rel);
    for (const auto& part : p)
      if (part == "..") return bad(field, "\"" + rel + "\" leaves the recipe's directory");
    if (p.is_absolute()) return bad(field, "\"" + rel + "\" must be relative to the recipe");
    const fs::path full = r_.dir / p;
    std::error_code ec;
    if (directory ? !fs::is_directory(full, ec) : !fs::is_regular_file(full, ec))
      return bad(field, full.string() + " is not " + (directory ? "a directory" : "a file"));
    return full;
  }

  Result<void> read_base(const toml::table& top) {
    auto t = table(top, "base", true);
    if (!t) return t.error();
    const toml::table& b = **t;
    REVIVE_TRY(only_known(
        "base.", b, {"suite", "mirror", "security_mirror", "components", "variant", "archive"}));
    RecipeBase& base = r_.base;
    REVIVE_TRY(text(b, "suite", "base.suite", base.suite, R"([a-z][a-z0-9-]{1,30})",
                    "a Debian suite like \"bookworm\""));
    const char* url = R"(https?://[A-Za-z0-9.:\[\]_~%/+-]+)";
    REVIVE_TRY(text(b, "mirror", "base.mirror", base.mirror, url, "an http(s) URL"));
    REVIVE_TRY(text(b, "security_mirror", "base.security_mirror", base.security_mirror, url,
                    "an http(s) URL"));
    if (b.get("components")) {
      auto c = list(b, "components", "base.components", "[a-z-]+", "an archive component");
      if (!c) return c.error();
      if (c->empty()) return bad("base.components", "must name at least one (e.g. \"main\")");
      base.components = *c;
    }
    REVIVE_TRY(text(b, "variant", "base.variant", base.variant,
                    "essential|apt|required|minbase|buildd|important|standard",
                    "an mmdebstrap variant (apt, required, important, standard...)"));
    auto archive = recipe_file(b, "archive", "base.archive", false);
    if (!archive) return archive.error();
    base.archive = *archive;
    if (base.from_archive() == !base.suite.empty())
      return bad("base", "give either suite (with mirror) or archive, not both or neither");
    if (!base.suite.empty() && base.mirror.empty())
      return bad("base.mirror", "missing (the Debian mirror for " + base.suite + ")");
    if (base.from_archive() && (b.get("mirror") || b.get("security_mirror")))
      return bad("base.mirror", "not used with base.archive (nothing is downloaded)");
    return {};
  }

  Result<void> read_disk(const toml::table& top) {
    auto t = table(top, "disk", true);
    if (!t) return t.error();
    REVIVE_TRY(only_known("disk.", **t, {"min_size", "esp_size"}));
    REVIVE_TRY(size(**t, "min_size", "disk.min_size", r_.disk.min_size));
    REVIVE_TRY(size(**t, "esp_size", "disk.esp_size", r_.disk.esp_size));
    if (r_.disk.min_size == 0) return bad("disk.min_size", "missing (e.g. \"4G\")");
    if (r_.disk.esp_size < (64ull << 20) || r_.disk.esp_size > (1ull << 30))
      return bad("disk.esp_size", "must be between 64M and 1G");
    const std::uint64_t fixed = 3 * RecipeDisk::kBiosBootSize + r_.disk.esp_size;
    if (r_.disk.min_size < fixed + (512ull << 20))
      return bad("disk.min_size",
                 "too small: the root filesystem needs at least 512M beside the ESP and GPT");
    return {};
  }

  Result<void> read_packages(const toml::table& top) {
    if (top.get("packages") && !top.get("packages")->as_array())
      return bad("packages", "must be a list of Debian package names");
    auto p = list(top, "packages", "packages", R"([a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?)",
                  "a Debian package name (optionally name=version)");
    if (!p) return p.error();
    r_.packages = *p;
    if (r_.base.from_archive() && !r_.packages.empty())
      return bad("packages", "cannot be installed into a base.archive root (use base.suite)");
    return {};
  }

  Result<void> read_locale(const toml::table& top) {
    auto t = table(top, "locale", false);
    if (!t) return t.error();
    if (!*t) return {};
    const toml::table& l = **t;
    REVIVE_TRY(only_known("locale.", l,
                          {"lang", "extra", "keyboard_layout", "keyboard_variant", "timezone"}));
    const char* loc = R"(([a-z]{2,3}_[A-Z]{2}|C)\.UTF-8)";
    REVIVE_TRY(
        text(l, "lang", "locale.lang", r_.locale.lang, loc, "a UTF-8 locale like nl_NL.UTF-8"));
    auto extra = list(l, "extra", "locale.extra", loc, "a UTF-8 locale like fr_BE.UTF-8");
    if (!extra) return extra.error();
    r_.locale.extra = *extra;
    REVIVE_TRY(text(l, "keyboard_layout", "locale.keyboard_layout", r_.locale.keyboard_layout,
                    "[a-z]{2,3}(,[a-z]{2,3})*", "an XKB layout like \"be\" or \"us,nl\""));
    REVIVE_TRY(text(l, "keyboard_variant", "locale.keyboard_variant", r_.locale.keyboard_variant,
                    "[a-z0-9_,-]*", "an XKB variant like \"oss\""));
    REVIVE_TRY(text(l, "timezone", "locale.timezone", r_.locale.timezone,
                    "[A-Z][A-Za-z_+-]*(/[A-Za-z_+-]+)*", "an IANA zone like Europe/Brussels"));
    return {};
  }

  Result<void> read_overlay(const toml::table& top) {
    auto o = recipe_file(top, "overlay", "overlay", true);
    if (!o) return o.error();
    r_.overlay = *o;
    return {};
  }

  Result<void> read_first_boot(const toml::table& top) {
    const toml::node* n = top.get("first_boot");
    if (!n) return {};
    const auto* arr = n->as_array();
    if (!arr || !arr->is_array_of_tables())
      return bad("first_boot", "must be [[first_boot]] tables with name and script");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const std::string f = "first_boot[" + std::to_string(i) + "]";
      const toml::table& h = *(*arr)[i].as_table();
      REVIVE_TRY(only_known(f + ".", h, {"name", "script"}));
      RecipeFirstBoot hook;
      REVIVE_TRY(text(h, "name", f + ".name", hook.name, "[0-9]{2}-[a-z0-9-]{1,40}",
                      "NN-name, like \"10-welcome\" (runs in that order)"));
      if (hook.name.empty()) return bad(f + ".name", "missing");
      auto s = recipe_file(h, "script", f + ".script", false);
      if (!s) return s.error();
      if (s->empty()) return bad(f + ".script", "missing");
      hook.script = *s;
      for (const auto& other : r_.first_boot)
        if (other.name == hook.name) return bad(f + ".name", "\"" + hook.name + "\" given twice");
      r_.first_boot.push_back(hook);
    }
    return {};
  }

  Result<void> read_boot(const toml::table& top) {
    auto t = table(top, "boot", false);
    if (!t) return t.error();
    if (!*t) return {};
    REVIVE_TRY(only_known("boot.", **t, {"bios", "uefi", "kernel_cmdline"}));
    REVIVE_TRY(flag(**t, "bios", "boot.bios", r_.boot.bios));
    REVIVE_TRY(flag(**t, "uefi", "boot.uefi", r_.boot.uefi));
    REVIVE_TRY(text(**t, "kernel_cmdline", "boot.kernel_cmdline", r_.boot.kernel_cmdline,
                    R"([A-Za-z0-9 ._=,:/+-]*)", "kernel parameters (no quotes or ';')"));
    if (!r_.boot.bios && !r_.boot.uefi)
      return bad("boot", "bios and uefi are both off: the disk would not boot");
    return {};
  }

  Recipe& r_;
};

}  // namespace

Result<Recipe> parse_recipe(std::string_view text, const fs::path& file) {
  Recipe r;
  r.file = file;
  r.dir = file.parent_path();
  toml::table t;
  try {
    t = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return make_error(Errc::invalid_input, file.filename().string() + ":" +
                                               std::to_string(e.source().begin.line) + ": " +
                                               std::string(e.description()));
  }
  RecipeReader reader(r);
  REVIVE_TRY(reader.read(t));
  return r;
}

Result<Recipe> load_recipe(const fs::path& path) {
  std::error_code ec;
  fs::path file = fs::is_directory(path, ec) ? path / "recipe.toml" : path;
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "recipe " + file.string() + ": cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().size() > (1u << 20))
    return make_error(Errc::invalid_input, "recipe " + file.string() + ": larger than 1 MiB");
  return parse_recipe(s.str(), fs::absolute(file));
}

}  // namespace revive::ctl
