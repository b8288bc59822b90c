// Images: the list and signed manifests (agents and operators), uploads and removal
// (operators), and chunks by content hash (anyone: only reachable from a signed manifest).
#include <cstdio>

#include "api/handler.hpp"
#include "revive/image_ops.hpp"

namespace revive::server {

namespace {

Response chunk(ApiContext& api, Call& c) {
  const std::string& sha = c.param("sha");
  auto d = parse_digest(sha);
  if (!d) return error_response(400, "invalid_input", "chunk names are 64 hex digits (SHA-256)");
  auto opened = api.store.chunks().open_chunk(*d);
  if (!opened) {
    if (opened.error().code == Errc::not_found)
      return error_response(404, "not_found", "no chunk " + sha);
    return from_error(opened.error());
  }
  const std::uint64_t size = opened->size;
  // Strong validator: chunk files never change once visible (content-addressed, rename-once).
  const std::string etag = "\"" + digest_hex(*d) + "-" + std::to_string(size) + "\"";
  Response r;
  r.content_type = "application/zstd";
  r.headers = {{"ETag", etag},
               {"Accept-Ranges", "bytes"},
               {"Cache-Control", "public, max-age=31536000, immutable"}};
  if (c.req.header("if-none-match") == etag) {
    r.status = 304;
    return r;
  }
  std::optional<ByteRange> range;
  const std::string if_range = c.req.header("if-range");
  if (if_range.empty() || if_range == etag) range = parse_range(c.req.header("range"), size);
  if (range && !range->satisfiable) {
    Response e =
        error_response(416, "range_not_satisfiable", "requested range is outside the chunk");
    e.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return e;
  }
  r.file =
      Response::File{opened->fd.release(), range ? range->first : 0, range ? range->length : size};
  // The server port's load for the scheduler's metrics (answered, whether or not the client
  // reads it all).
  if (c.req.method == "GET") api.services.deployments.server_sent(r.file->length);
  if (range) {
    r.status = 206;
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                std::to_string(range->first + range->length - 1) +
                                                "/" + std::to_string(size));
  }
  return r;
}

Response manifest(ApiContext& api, Call& c) {
  auto text = api.services.images.manifest(c.param("name"));
  if (!text) return from_error(text.error());
  Response r;
  r.body = std::move(*text);
  return r;
}

Response job_answer(const Result<ImportSummary>& s) {
  if (!s) return from_error(s.error());
  return json_response({{"name", s->name},
                        {"id", s->image_id},
                        {"logical_size", s->logical_size},
                        {"stored_bytes", s->stored_bytes},
                        {"new_chunks", s->new_chunks}},
                       201);
}

Response upload(ApiContext& api, Call& c) {
  const std::string name = c.query("name");
  if (auto v = validate_image_name(name); !v) return from_error(v.error());
  if (c.req.body_file.empty())
    return error_response(400, "invalid_input", "upload the raw disk image as the request body");
  // Move the spooled body out of the HTTP layer's way: the import owns it now.
  const std::string spool = c.req.body_file + ".import";
  if (std::rename(c.req.body_file.c_str(), spool.c_str()) != 0)
    return error_response(500, "io", "cannot claim upload");
  Images& images = api.services.images;
  auto notify = api.notify;
  const std::uint64_t job =
      images.start_import(spool, name, c.query("replace") == "1", c.operator_name,
                          [notify](std::uint64_t j) { notify("job:" + std::to_string(j)); });
  Response r;
  r.long_poll = LongPoll{"job:" + std::to_string(job), std::chrono::hours(24),
                         [&images, job](bool final) -> std::optional<Response> {
                           auto outcome = images.take_job(job);
                           if (!outcome) return error_response(500, "internal", "import job lost");
                           if (*outcome) return job_answer(**outcome);
                           if (!final) return std::nullopt;
                           return error_response(503, "busy",
                                                 "import still running; check `revivectl image "
                                                 "list` later");
                         }};
  return r;
}

}  // namespace

void add_image_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::chunk, [&api](Call& c) { return chunk(api, c); });
  t.add(RouteId::images, [&api](Call&) { return reply(api.services.images.list()); });
  t.add(RouteId::image_manifest, [&api](Call& c) { return manifest(api, c); });
  t.add(RouteId::upload_image, [&api](Call& c) { return upload(api, c); });
  t.add(RouteId::delete_image, [&api](Call& c) {
    return ok_or_error(api.services.images.remove(c.param("name"), c.operator_name));
  });
}

}  // namespace revive::server
