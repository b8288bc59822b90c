#include "api.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "boot_script.hpp"
#include "certificate.hpp"
#include "certificate_pdf.hpp"
#include "login_throttle.hpp"
#include "revive/encoding.hpp"
#include "revive/file_util.hpp"
#include "revive/image_ops.hpp"
#include "tftp.hpp"

namespace revive::server {

#define TRY_ASSIGN_API(var, expr)       \
  auto var##_r = (expr);                \
  if (!var##_r) return var##_r.error(); \
  auto& var = *var##_r

namespace {

Response json_response(const Json& j, int status = 200) {
  Response r;
  r.status = status;
  r.body = j.dump() + "\n";
  return r;
}

int http_status(Errc code) {
  switch (code) {
    case Errc::invalid_input:
      return 400;
    case Errc::unauthorized:
      return 401;
    case Errc::not_found:
      return 404;
    case Errc::already_exists:
    case Errc::conflict:
      return 409;
    case Errc::no_space:
      return 507;
    case Errc::busy:
      return 503;
    case Errc::bad_signature:
    case Errc::corrupt:
      return 422;
    default:
      return 500;
  }
}

Response from_error(const Error& e) {
  return error_response(http_status(e.code), to_string(e.code), e.message);
}

/// {"ok": true}, or the error as an HTTP error.
Response ok_or_error(const Result<void>& r) {
  return r ? json_response({{"ok", true}}) : from_error(r.error());
}

/// The JSON value, or the error as an HTTP error.
Response reply(const Result<Json>& r, int status = 200) {
  return r ? json_response(*r, status) : from_error(r.error());
}

std::optional<std::int64_t> parse_id(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

std::string bearer(const Request& req) {
  const std::string h = req.header("authorization");
  constexpr std::string_view kPrefix = "Bearer ";
  if (h.size() > kPrefix.size() && h.compare(0, kPrefix.size(), kPrefix) == 0)
    return h.substr(kPrefix.size());
  return {};
}

std::string csv_field(const std::string& s) {
  // Quote always; neutralise spreadsheet formulas (a serial starting with '=' stays text).
  std::string v = s;
  if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@'))
    v.insert(v.begin(), '\'');
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

struct Api::Impl : std::enable_shared_from_this<Impl> {
  StateStore& state;
  ImageStore& images;
  Metrics& metrics;
  ApiHooks hooks;
  ApiOptions opts;
  std::uint64_t next_job = 0;
  std::map<std::uint64_t, std::optional<Response>> jobs;  // finished blocking jobs
  LoginThrottle login_throttle;

  Impl(StateStore& s, ImageStore& i, Metrics& m, ApiHooks h, ApiOptions o)
      : state(s), images(i), metrics(m), hooks(std::move(h)), opts(o) {}

  Result<Json> body_json(const Request& req) {
    if (req.body.empty())
      return make_error(Errc::invalid_input, "request body must be a JSON object");
    Json j = Json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return make_error(Errc::invalid_input, "request body is not a JSON object");
    return j;
  }

  static std::string str(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
  static std::optional<std::string> opt_str(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  }

  Result<std::string> require_operator(const Request& req) {
    const std::string t = bearer(req);
    if (t.empty())
      return make_error(
          Errc::unauthorized,
          "operator token required (Authorization: Bearer ...; see `revivectl login`)");
    return state.authenticate_operator(t);
  }

  // Agent endpoints: the token must belong to the device named in the path.
  Result<std::int64_t> require_agent(const Request& req, const std::string& id_text) {
    const std::string t = bearer(req);
    if (t.empty()) return make_error(Errc::unauthorized, "agent token required");
    auto dev = state.authenticate_agent(t);
    if (!dev) return dev.error();
    auto id = parse_id(id_text);
    if (!id || *id != *dev)
      return make_error(Errc::unauthorized, "this agent token belongs to another device");
    return *dev;
  }

  // A setting's value, or `fallback` when it is unset (or cannot be read).
  std::string setting_or(const char* key, std::string fallback) {
    auto v = state.setting(key);
    return v && *v ? **v : fallback;
  }

  // A wipe step's evidence becomes signed certificates (one per drive, one for the laptop),
  // stored with the step result in one transaction. Evidence that cannot be certified, or a
  // laptop certificate that did not pass, makes the step failed: fail closed.
  struct Certified {
    std::vector<NewCertificate> certs;
    std::string status;
    std::string error;
  };
  Result<Certified> certify_wipe(std::int64_t dev, const Json& result, const std::string& status,
                                 const std::string& error) {
    Certified out{{}, status, error};
    auto facts = state.certificate_facts(dev);
    if (!facts) return facts.error();
    cert::IssueContext ctx;
    ctx.device = (*facts)["device"];
    ctx.donor_batch = (*facts)["donor_batch"];
    ctx.issued_at = now_rfc3339();
    ctx.workshop = setting_or("workshop_name", "Revive workshop");
    ctx.operator_name = setting_or("certificate_operator", "");
    // A share of laptops (default 5%) gets an independent check by a second volunteer.
    const double share =
        std::clamp(std::strtod(setting_or("reverify_share", "0.05").c_str(), nullptr), 0.0, 1.0);
    ctx.reverify_selected =
        randombytes_uniform(1000000) < static_cast<std::uint32_t>(share * 1000000);
    std::vector<Json> drives;
    const Json evidence =
        result.is_object() ? result.value("drives", Json::array()) : Json::array();
    std::string problem;
    if (!evidence.is_array() || evidence.size() > 64)
      problem = "wipe evidence: \"drives\" must be an array of at most 64 drives";
    for (const auto& e : evidence.is_array() ? evidence : Json::array()) {
      if (!problem.empty()) break;
      auto c = cert::drive_certificate(ctx, e);
      if (!c) {
        problem = c.error().message;
        break;
      }
      drives.push_back(*c);
    }
    if (!problem.empty()) drives.clear();
    const Json laptop = cert::laptop_certificate(ctx, drives);
    for (const auto& d : drives)
      out.certs.push_back({d["certificate_id"], "drive", d["result"], cert::sign(d, images.key())});
    out.certs.push_back(
        {laptop["certificate_id"], "laptop", laptop["result"], cert::sign(laptop, images.key())});
    if (out.status == "ok" && laptop["result"] != "passed") {
      out.status = "failed";
      out.error = problem.empty() ? "the erasure certificate did not pass: " +
                                        laptop["reason"].get<std::string>()
                                  : "the wipe evidence was refused: " + problem;
    }
    return out;
  }

  bool authenticated_any(const Request& req) {
    const std::string t = bearer(req);
    return !t.empty() && (state.authenticate_operator(t) || state.authenticate_agent(t));
  }

  Response handle(Request& req, std::string& route) {
    std::map<std::string, std::string> p;
    auto is = [&](const char* method, const char* pattern) {
      if (req.method != method || !match_route(pattern, req.path, p)) return false;
      route = pattern;
      return true;
    };

    if (is("GET", "/healthz")) return json_response({{"status", "ok"}});
    if (is("GET", "/metrics")) {
      auto counts = state.device_counts_by_state();
      Response r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics.render(counts ? *counts : std::map<std::string, std::int64_t>{});
      return r;
    }
    if (is("GET", "/chunks/{sha}")) return serve_chunk(req, p["sha"]);
    // ---- network boot (laptops have no credentials yet: these are public, like TFTP)
    if (is("GET", "/boot/files/local-disk"))
      return error_response(404, "not_found",
                            "this laptop's workflow is done: it boots its own disk");
    if (is("GET", "/boot/files/{name}")) return serve_boot_file("tftp", p["name"]);
    if (is("GET", "/boot/live/{name}")) return serve_boot_file("live", p["name"]);
    if (is("GET", "/boot/{script}")) return boot_script(req, p["script"]);
    if (is("GET", "/api/v1/public-key")) {
      Response r;
      r.content_type = "text/plain";
      r.body = public_key_to_text(images.key().public_key());
      return r;
    }

    // ---- agents
    if (is("POST", "/api/v1/agents/enrol")) return enrol(req);
    if (is("POST", "/api/v1/agents/{id}/next")) return agent_next(req, p["id"]);
    if (is("POST", "/api/v1/agents/{id}/progress")) {
      return with_agent(req, p["id"], [&](std::int64_t dev, const Json& j) -> Response {
        if (!j.contains("step") || !j["step"].is_number_integer())
          return error_response(400, "invalid_input", "\"step\" (step id) is required");
        return ok_or_error(state.progress(dev, j["step"].get<std::int64_t>(),
                                          j.value("progress", Json::object())));
      });
    }
    if (is("POST", "/api/v1/agents/{id}/events")) {
      return with_agent(req, p["id"], [&](std::int64_t dev, const Json& j) -> Response {
        return ok_or_error(state.add_events(dev, j.value("events", Json())));
      });
    }
    if (is("POST", "/api/v1/agents/{id}/steps/{step}/checkpoint")) {
      const std::string step_text = p["step"];
      return with_agent(req, p["id"], [&](std::int64_t dev, const Json& j) -> Response {
        auto step = parse_id(step_text);
        if (!step)
          return error_response(400, "invalid_input", "step id must be a positive integer");
        if (!j.contains("attempt") || !j["attempt"].is_number_integer() ||
            !j.contains("checkpoint") || !j["checkpoint"].is_object()) {
          return error_response(400, "invalid_input",
                                "\"attempt\" and a \"checkpoint\" object are required");
        }
        return ok_or_error(
            state.checkpoint(dev, *step, j["attempt"].get<std::int64_t>(), j["checkpoint"]));
      });
    }
    if (is("GET", "/api/v1/agents/{id}/certificates")) {
      auto dev = require_agent(req, p["id"]);
      if (!dev) return from_error(dev.error());
      return reply(state.list_certificates(*dev));
    }
    if (is("POST", "/api/v1/agents/{id}/steps/{step}/result")) {
      const std::string step_text = p["step"];
      return with_agent(req, p["id"], [&](std::int64_t dev, const Json& j) -> Response {
        auto step = parse_id(step_text);
        if (!step)
          return error_response(400, "invalid_input", "step id must be a positive integer");
        if (!j.contains("attempt") || !j["attempt"].is_number_integer())
          return error_response(400, "invalid_input", "\"attempt\" is required");
        const Json result = j.value("result", Json::object());
        auto kind = state.step_kind(dev, *step);
        if (!kind) return from_error(kind.error());
        if (*kind == "wipe") {
          auto c = certify_wipe(dev, result, str(j, "status"), str(j, "error"));
          if (!c) return from_error(c.error());
          return reply(state.post_result(dev, *step, j["attempt"].get<std::int64_t>(), c->status,
                                         result, c->error, c->certs));
        }
        return reply(state.post_result(dev, *step, j["attempt"].get<std::int64_t>(),
                                       str(j, "status"), result, str(j, "error")));
      });
    }

    // ---- images (agents and operators)
    if (is("GET", "/api/v1/images")) {
      if (!authenticated_any(req)) return error_response(401, "unauthorized", "token required");
      return list_images();
    }
    if (is("GET", "/api/v1/images/{name}/manifest")) {
      if (!authenticated_any(req)) return error_response(401, "unauthorized", "token required");
      auto text = images.read_manifest_text(p["name"]);
      if (!text) return from_error(text.error());
      Response r;
      r.body = std::move(*text);
      return r;
    }

    // ---- operators
    if (is("POST", "/api/v1/login")) {
      auto j = body_json(req);
      if (!j) return from_error(j.error());
      const std::string name = str(*j, "name");
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
      if (const auto wait = login_throttle.retry_after(name, req.peer, now); wait > 0) {
        route = "login_throttled";
        Response r = error_response(
            429, "too_many_attempts",
            "too many failed logins for this operator or from this address: try again in " +
                std::to_string(wait) + " s");
        r.headers.emplace_back("Retry-After", std::to_string(wait));
        return r;
      }
      auto t = state.login(name, str(*j, "password"));
      if (!t) {
        if (t.error().code == Errc::unauthorized) login_throttle.failed(name, req.peer, now);
        return from_error(t.error());
      }
      login_throttle.succeeded(name);
      return json_response({{"token", *t}});
    }
    // Everything below needs an operator.
    if (req.path.rfind("/api/v1/", 0) != 0)
      return error_response(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
    auto op = require_operator(req);
    if (!op) {
      route = "unauthorized";
      return from_error(op.error());
    }
    const std::string& who = *op;

    if (is("POST", "/api/v1/tokens")) {
      auto j = body_json(req);
      auto t = state.create_api_token(who, j ? str(*j, "label") : "");
      return t ? json_response({{"token", *t}}) : from_error(t.error());
    }
    if (is("GET", "/api/v1/devices")) {
      return reply(state.list_devices());
    }
    if (is("GET", "/api/v1/devices/{id}")) {
      auto id = parse_id(p["id"]);
      if (!id) return error_response(400, "invalid_input", "device id must be a positive integer");
      return reply(state.device(*id));
    }
    if (is("GET", "/api/v1/devices/{id}/certificates")) {
      auto id = parse_id(p["id"]);
      if (!id) return error_response(400, "invalid_input", "device id must be a positive integer");
      return reply(state.list_certificates(*id));
    }
    if (is("GET", "/api/v1/certificates/{cert}") || is("GET", "/api/v1/certificates/{cert}/pdf")) {
      auto text = state.certificate(p["cert"]);
      if (!text) return from_error(text.error());
      Response r;
      if (req.path.ends_with("/pdf")) {
        auto pdf = cert::render_pdf(*text);
        if (!pdf) return from_error(pdf.error());
        r.body = std::move(*pdf);
        r.content_type = "application/pdf";
      } else {
        r.body = std::move(*text);
        r.content_type = "application/json";
      }
      return r;
    }
    if (is("POST", "/api/v1/certificates/{cert}/validate")) {
      auto j = body_json(req);
      if (!j) return from_error(j.error());
      auto origin = state.certificate_origin(p["cert"]);
      if (!origin) return from_error(origin.error());
      auto text = state.certificate(p["cert"]);
      if (!text) return from_error(text.error());
      auto v = cert::verify_json(*text, images.key().public_key());
      if (!v) return from_error(v.error());
      auto next =
          cert::revalidated(v->body, who, str(*j, "verdict"), str(*j, "note"), now_rfc3339());
      if (!next) return from_error(next.error());
      const NewCertificate c{(*next)["certificate_id"], (*next)["kind"], (*next)["result"],
                             cert::sign(*next, images.key())};
      if (auto r = state.add_certificate(
              (*origin)["device_id"],
              (*origin)["step_id"].is_null() ? 0 : (*origin)["step_id"].get<std::int64_t>(), c,
              who);
          !r) {
        return from_error(r.error());
      }
      return json_response(
          {{"cert_id", c.cert_id}, {"result", c.result}, {"supersedes", p["cert"]}}, 201);
    }
    if (is("GET", "/api/v1/batches/{name}/certificate")) {
      auto rows = state.batch_certificates(p["name"]);
      if (!rows) return from_error(rows.error());
      std::vector<Json> laptops;
      for (const auto& row : *rows) {
        auto v = cert::verify_json(row["body"].get<std::string>(), images.key().public_key());
        if (!v)
          return from_error(
              v.error().with_context("certificate " + row["cert_id"].get<std::string>()));
        laptops.push_back(v->body);
      }
      auto batches = state.list_batches();
      Json donor = {{"name", p["name"]}, {"donor", ""}};
      if (batches) {
        for (const auto& b : *batches) {
          if (b.value("name", std::string()) == p["name"])
            donor["donor"] = b.value("donor", std::string());
        }
      }
      const Json summary = cert::batch_summary(setting_or("workshop_name", "Revive workshop"),
                                               donor, now_rfc3339(), laptops);
      const auto format = req.query.count("format") ? req.query.at("format") : std::string("json");
      Response r;
      if (format == "csv") {
        r.content_type = "text/csv";
        r.body = cert::batch_csv(summary);
      } else if (format == "pdf" || format == "json") {
        r.body = cert::sign(summary, images.key());
        r.content_type = "application/json";
        if (format == "pdf") {
          auto pdf = cert::render_pdf(r.body);
          if (!pdf) return from_error(pdf.error());
          r.body = std::move(*pdf);
          r.content_type = "application/pdf";
        }
      } else {
        return error_response(400, "invalid_input", "format must be json, csv or pdf");
      }
      return r;
    }
    if (is("POST", "/api/v1/devices/{id}/cancel") || is("POST", "/api/v1/devices/{id}/restart") ||
        is("POST", "/api/v1/devices/{id}/assign")) {
      auto id = parse_id(p["id"]);
      if (!id) return error_response(400, "invalid_input", "device id must be a positive integer");
      Result<void> r;
      if (req.path.ends_with("/cancel")) {
        r = state.cancel_device(*id, who);
      } else if (req.path.ends_with("/restart")) {
        r = state.restart_device(*id, who);
      } else {
        auto j = body_json(req);
        if (!j) return from_error(j.error());
        r = state.assign_device(*id, opt_str(*j, "batch"), opt_str(*j, "workflow"));
      }
      if (r) hooks.notify("device:" + std::to_string(*id));
      return ok_or_error(r);
    }
    if (is("POST", "/api/v1/steps/{id}/retry") || is("POST", "/api/v1/steps/{id}/skip")) {
      auto id = parse_id(p["id"]);
      if (!id) return error_response(400, "invalid_input", "step id must be a positive integer");
      auto dev =
          req.path.ends_with("/retry") ? state.retry_step(*id, who) : state.skip_step(*id, who);
      if (!dev) return from_error(dev.error());
      hooks.notify("device:" + std::to_string(*dev));
      return json_response({{"ok", true}, {"device", *dev}});
    }
    if (is("GET", "/api/v1/workflows")) {
      return reply(state.list_workflows());
    }
    if (is("POST", "/api/v1/workflows")) {
      auto j = body_json(req);
      if (!j) return from_error(j.error());
      return ok_or_error(state.put_workflow(str(*j, "name"), j->value("steps", Json())));
    }
    if (is("POST", "/api/v1/settings")) {
      auto j = body_json(req);
      if (!j) return from_error(j.error());
      // Names are checked so a typo cannot leave new laptops without a workflow.
      if (auto v = opt_str(*j, "default_workflow")) {
        if (auto r = state.set_default_workflow(*v); !r) return from_error(r.error());
      }
      if (auto v = opt_str(*j, "intake_batch")) {
        if (auto r = state.set_intake_batch(*v); !r) return from_error(r.error());
      }
      if (auto v = opt_str(*j, "reverify_share")) {
        char* end = nullptr;
        const double share = std::strtod(v->c_str(), &end);
        if (v->empty() || *end != '\0' || share < 0 || share > 1)
          return error_response(400, "invalid_input",
                                "reverify_share must be a number from 0 to 1");
      }
      for (const char* key :
           {"workshop_name", "grading_policy", "certificate_operator", "reverify_share"}) {
        if (auto v = opt_str(*j, key)) {
          if (v->size() > 64 * 1024)
            return error_response(400, "invalid_input",
                                  std::string(key) + " is larger than 64 KiB");
          if (auto r = state.set_setting(key, *v); !r) return from_error(r.error());
        }
      }
      return json_response({{"ok", true}});
    }
    if (is("GET", "/api/v1/batches")) {
      return reply(state.list_batches());
    }
    if (is("POST", "/api/v1/batches")) {
      auto j = body_json(req);
      if (!j) return from_error(j.error());
      auto id = state.create_batch(str(*j, "name"), str(*j, "donor"), opt_str(*j, "workflow"),
                                   opt_str(*j, "image"));
      return id ? json_response({{"id", *id}}, 201) : from_error(id.error());
    }
    if (is("POST", "/api/v1/images")) return import_upload(req, who);
    if (is("DELETE", "/api/v1/images/{name}")) {
      auto r = images.remove(p["name"]);
      if (r)
        (void)state.log_event(std::nullopt, "image-removed",
                              {{"name", p["name"]}, {"operator", who}});
      return ok_or_error(r);
    }
    if (is("GET", "/api/v1/events")) {
      std::int64_t after = 0;
      if (auto a = req.query.find("after"); a != req.query.end())
        after = parse_id(a->second).value_or(0);
      return reply(state.events_since(after, 500));
    }
    if (is("GET", "/api/v1/events/stream")) {
      Response r;
      r.event_stream = true;
      return r;
    }
    if (is("GET", "/api/v1/export")) return export_devices(req);
    route = "unknown";
    return error_response(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
  }

  template <class F>
  Response with_agent(const Request& req, const std::string& id_text, F&& f) {
    auto dev = require_agent(req, id_text);
    if (!dev) return from_error(dev.error());
    auto j = body_json(req);
    if (!j) return from_error(j.error());
    return f(*dev, *j);
  }

  Response enrol(const Request& req) {
    auto j = body_json(req);
    if (!j) return from_error(j.error());
    const Json idj = j->value("identity", Json::object());
    if (!idj.is_object())
      return error_response(400, "invalid_input", "\"identity\" must be an object");
    Identity id{str(idj, "system_uuid"), str(idj, "serial"), str(idj, "model"), str(idj, "vendor")};
    for (const auto* f : {&id.system_uuid, &id.serial, &id.model, &id.vendor}) {
      if (f->size() > 256)
        return error_response(400, "invalid_input", "identity fields are at most 256 characters");
    }
    const Json macs = j->value("macs", Json::array());
    if (!macs.is_array() || macs.size() > 64)
      return error_response(400, "invalid_input", "\"macs\" must be an array");
    auto r = state.enrol(id, macs, j->value("inventory", Json()), str(*j, "boot_token"));
    if (!r) return from_error(r.error());
    return json_response({{"device_id", r->device_id},
                          {"agent_token", r->agent_token},
                          {"new_device", r->new_device},
                          {"protocol", 1}});
  }

  Response agent_next(const Request& req, const std::string& id_text) {
    auto dev = require_agent(req, id_text);
    if (!dev) return from_error(dev.error());
    int wait = opts.max_long_poll_s;
    if (auto w = req.query.find("wait"); w != req.query.end()) {
      wait = std::clamp(static_cast<int>(parse_id(w->second).value_or(0)), 0, opts.max_long_poll_s);
    }
    auto first = state.next_step(*dev);
    if (!first) return from_error(first.error());
    if ((*first)["state"] != "waiting" || wait == 0) return json_response(*first);
    // Waiting for an operator: hold the request until something changes for this device.
    const std::int64_t device = *dev;
    auto self = shared_from_this();
    Response r;
    r.long_poll = LongPoll{"device:" + std::to_string(device), std::chrono::seconds(wait),
                           [self, device](bool final) -> std::optional<Response> {
                             auto n = self->state.next_step(device);
                             if (!n) return from_error(n.error());
                             if ((*n)["state"] == "waiting" && !final) return std::nullopt;
                             return json_response(*n);
                           }};
    return r;
  }

  Response list_images() {
    auto names = images.list();
    if (!names) return from_error(names.error());
    Json out = Json::array();
    for (const auto& n : *names) {
      auto m = images.load(n);
      if (!m) {
        out.push_back({{"name", n}, {"error", m.error().message}});
        continue;
      }
      out.push_back({{"name", n},
                     {"id", m->image_id},
                     {"logical_size", m->logical_size},
                     {"stored_bytes", m->stored_bytes},
                     {"chunk_size", m->chunk_size},
                     {"data_chunks", m->data_chunk_count()},
                     {"created_at", m->created_at}});
    }
    return json_response(out);
  }

  Response serve_boot_file(const char* area, const std::string& name) {
    if (opts.boot_dir.empty())
      return error_response(404, "not_found",
                            "network boot is not set up on this server (--boot-dir)");
    const auto dir = opts.boot_dir / area;
    const int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return error_response(404, "not_found", "no " + dir.string() + " on this server");
    auto f = boot::open_confined(root, name);
    ::close(root);
    if (!f) return from_error(f.error());
    Response r;
    r.content_type = "application/octet-stream";
    r.file = Response::File{f->fd, 0, f->size};
    return r;
  }

  // What a network-booting laptop gets: its local disk once its run is done, else the live
  // agent with a fresh single-boot token. nullopt in `live`: no live image on this server.
  struct BootPlan {
    bool local = false;
    std::string reason;
    std::optional<boot::LiveAgentBoot> live;
  };
  Result<BootPlan> plan_boot(const std::string& mac, const std::string& base_url) {
    BootPlan p;
    TRY_ASSIGN_API(d, state.boot_decision(mac));
    p.reason = d.reason;
    if (d.boot_local) {
      REVIVE_TRY(state.record_boot_script(*d.device_id, mac, "local-disk"));
      p.local = true;
      return p;
    }
    struct stat st {};
    if (opts.boot_dir.empty() ||
        ::stat((opts.boot_dir / "live" / "initrd.img").c_str(), &st) != 0 ||
        ::stat((opts.boot_dir / "live" / "vmlinuz").c_str(), &st) != 0) {
      p.reason = "this server has no live agent image (" + (opts.boot_dir / "live").string() +
                 "/vmlinuz and initrd.img): see provisioning/README.md";
      return p;
    }
    TRY_ASSIGN_API(token, state.issue_boot_token(mac));
    if (d.device_id) REVIVE_TRY(state.record_boot_script(*d.device_id, mac, "live-agent"));
    p.live = boot::LiveAgentBoot{base_url, mac, token, opts.boot_kernel_args, d.reason};
    return p;
  }

  Response boot_script(const Request& req, const std::string& script) {
    Response r;
    r.content_type = "text/plain";
    r.headers = {{"Cache-Control", "no-store"}};
    const std::string suffix = ".ipxe";
    const auto mac = script.size() > suffix.size() && script.ends_with(suffix)
                         ? boot::normalise_mac(script.substr(0, script.size() - suffix.size()))
                         : std::nullopt;
    if (!mac) {
      r.status = 404;
      r.body = boot::ipxe_error_script("no boot script \"" + script.substr(0, 40) +
                                       "\": ask for /boot/MAC.ipxe");
      return r;
    }
    const std::string host = req.header("host");
    const bool host_ok =
        !host.empty() && host.size() < 100 &&
        std::all_of(host.begin(), host.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '.' || c == ':' || c == '-' || c == '[' || c == ']';
        });
    if (!host_ok)
      return error_response(400, "invalid_input",
                            "the Host header must name this server (host[:port])");
    auto plan = plan_boot(*mac, "http://" + host);
    if (!plan) return from_error(plan.error());
    if (plan->local) {
      r.body = boot::ipxe_local_disk_script(*mac, plan->reason);
    } else if (!plan->live) {
      r.body = boot::ipxe_error_script(plan->reason);
    } else {
      r.body = boot::ipxe_live_agent_script(*plan->live);
    }
    return r;
  }

  bool offer_network_boot(const std::string& mac) {
    auto d = state.boot_decision(mac);
    if (!d || !d->boot_local)
      return true;  // when in doubt, boot the agent: it asks the server what to do
    (void)state.record_boot_script(*d->device_id, mac, "local-disk");
    return false;
  }

  // TFTP names made per request: GRUB's main config, and each laptop's own.
  std::optional<std::string> generated_boot_file(const std::string& name,
                                                 const std::string& base_url) {
    if (name == "grub/grub.cfg") return boot::grub_main_cfg();
    const auto mac = boot::grub_cfg_mac(name);
    if (!mac) return std::nullopt;
    auto plan = plan_boot(*mac, base_url);
    if (!plan)
      return boot::grub_local_disk_cfg(*mac,
                                       "the server could not decide: " + plan.error().message);
    if (plan->local) return boot::grub_local_disk_cfg(*mac, plan->reason);
    if (!plan->live) return boot::grub_local_disk_cfg(*mac, plan->reason);
    return boot::grub_live_agent_cfg(*plan->live);
  }

  Response serve_chunk(const Request& req, const std::string& sha_text) {
    auto d = parse_digest(sha_text);
    if (!d) return error_response(400, "invalid_input", "chunk names are 64 hex digits (SHA-256)");
    const auto path = images.chunks().path_for(*d);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error_response(404, "not_found", "no chunk " + sha_text);
    struct stat st {};
    ::fstat(fd, &st);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    // Strong validator: chunk files never change once visible (content-addressed, rename-once).
    const std::string etag = "\"" + digest_hex(*d) + "-" + std::to_string(size) + "\"";
    Response r;
    r.content_type = "application/zstd";
    r.headers = {{"ETag", etag},
                 {"Accept-Ranges", "bytes"},
                 {"Cache-Control", "public, max-age=31536000, immutable"}};
    if (req.header("if-none-match") == etag) {
      ::close(fd);
      r.status = 304;
      return r;
    }
    std::optional<ByteRange> range;
    const std::string if_range = req.header("if-range");
    if (if_range.empty() || if_range == etag) range = parse_range(req.header("range"), size);
    if (range && !range->satisfiable) {
      ::close(fd);
      Response e =
          error_response(416, "range_not_satisfiable", "requested range is outside the chunk");
      e.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return e;
    }
    r.file = Response::File{fd, range ? range->first : 0, range ? range->length : size};
    if (range) {
      r.status = 206;
      r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                  std::to_string(range->first + range->length - 1) +
                                                  "/" + std::to_string(size));
    }
    return r;
  }

  Response import_upload(Request& req, const std::string& who) {
    const std::string name = req.query.count("name") ? req.query["name"] : "";
    if (auto v = validate_image_name(name); !v) return from_error(v.error());
    if (req.body_file.empty())
      return error_response(400, "invalid_input", "upload the raw disk image as the request body");
    // Move the spooled body out of the server's way: the import owns it now.
    const std::string spool = req.body_file + ".import";
    if (::rename(req.body_file.c_str(), spool.c_str()) != 0)
      return error_response(500, "io", "cannot claim upload");
    const bool replace = req.query.count("replace") && req.query["replace"] == "1";
    const std::uint64_t job = next_job++;
    jobs[job] = std::nullopt;
    auto self = shared_from_this();
    auto result = std::make_shared<Result<ImportReport>>(make_error(Errc::internal, "not run"));
    hooks.run_blocking(
        [self, spool, name, replace, result] {
          ImportOptions o;
          o.name = name;
          o.replace = replace;
          *result = import_raw_image(self->images, spool, o);
          ::unlink(spool.c_str());
        },
        [self, job, result, name, who] {
          if (*result) {
            const auto& m = (*result)->manifest;
            (void)self->state.log_event(std::nullopt, "image-imported",
                                        {{"name", name}, {"operator", who}, {"id", m.image_id}});
            self->jobs[job] = json_response({{"name", name},
                                             {"id", m.image_id},
                                             {"logical_size", m.logical_size},
                                             {"stored_bytes", m.stored_bytes},
                                             {"new_chunks", (*result)->chunks_new}},
                                            201);
          } else {
            self->jobs[job] = from_error(result->error());
          }
          self->hooks.notify("job:" + std::to_string(job));
        });
    Response r;
    r.long_poll =
        LongPoll{"job:" + std::to_string(job), std::chrono::hours(24),
                 [self, job](bool final) -> std::optional<Response> {
                   auto it = self->jobs.find(job);
                   if (it == self->jobs.end())
                     return error_response(500, "internal", "import job lost");
                   if (!it->second) {
                     if (!final) return std::nullopt;
                     return error_response(
                         503, "busy", "import still running; check `revivectl image list` later");
                   }
                   Response out = std::move(*it->second);
                   self->jobs.erase(it);
                   return out;
                 }};
    return r;
  }

  Response export_devices(const Request& req) {
    auto devices = state.list_devices();
    if (!devices) return from_error(devices.error());
    Json full = Json::array();
    for (const auto& d : *devices) {
      auto one = state.device(d["id"].get<std::int64_t>());
      if (one) full.push_back(std::move(*one));
    }
    const auto fmt = req.query.count("format") ? req.query.at("format") : std::string("json");
    if (fmt == "json") return json_response(full);
    if (fmt != "csv") return error_response(400, "invalid_input", "format must be csv or json");
    Response r;
    r.content_type = "text/csv";
    r.body =
        "device_id,vendor,model,serial,system_uuid,batch,workflow,state,step,step_state,attempt,"
        "result_status,error\n";
    for (const auto& d : full) {
      const auto base =
          std::to_string(d["id"].get<std::int64_t>()) + "," + csv_field(d.value("vendor", "")) +
          "," + csv_field(d.value("model", "")) + "," + csv_field(d.value("serial", "")) + "," +
          csv_field(d.value("system_uuid", "")) + "," +
          csv_field(d["batch"].is_string() ? d["batch"].get<std::string>() : "") + "," +
          csv_field(d["workflow"].is_string() ? d["workflow"].get<std::string>() : "") + "," +
          csv_field(d.value("state", ""));
      std::map<std::int64_t, Json> results;
      for (const auto& res : d.value("results", Json::array()))
        results[res["step"].get<std::int64_t>()] = res;
      for (const auto& s : d.value("steps", Json::array())) {
        const auto it = results.find(s["id"].get<std::int64_t>());
        r.body += base + "," + csv_field(s["kind"].get<std::string>()) + "," +
                  csv_field(s["state"].get<std::string>()) + "," +
                  std::to_string(s["attempt"].get<std::int64_t>()) + "," +
                  csv_field(it != results.end() ? it->second["status"].get<std::string>() : "") +
                  "," + csv_field(s.value("error", "")) + "\n";
      }
    }
    return r;
  }
};

Api::Api(StateStore& state, ImageStore& images, Metrics& metrics, ApiHooks hooks, ApiOptions opts)
    : impl_(std::make_shared<Impl>(state, images, metrics, std::move(hooks), opts)) {}

Response Api::handle(Request& req, std::string& route) { return impl_->handle(req, route); }

bool Api::offer_network_boot(const std::string& mac) { return impl_->offer_network_boot(mac); }

std::optional<std::string> Api::generated_boot_file(const std::string& name,
                                                    const std::string& base_url) {
  return impl_->generated_boot_file(name, base_url);
}

std::optional<Response> Api::upload_precheck(const Request& req) {
  auto op = impl_->require_operator(req);
  if (!op) return from_error(op.error());
  auto it = req.query.find("name");
  if (auto v = validate_image_name(it == req.query.end() ? "" : it->second); !v)
    return from_error(v.error());
  return std::nullopt;
}

bool Api::is_upload(const Request& req) {
  return req.method == "POST" && req.path == "/api/v1/images";
}

}  // namespace revive::server
