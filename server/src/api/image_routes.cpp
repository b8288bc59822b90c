// Images: the list, signed manifests and chunk streams (agents and operators), uploads (whole, or
// resumable in pieces for the images page) and removal (operators), and chunks by content hash
// (anyone: only reachable from a signed manifest).
#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>

#include "api/handler.hpp"
#include "revive/chunk_stream.hpp"
#include "revive/image_ops.hpp"
#include "revive/manifest.hpp"

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

// A count, an index or an offset from a path or a query: digits only, 0 allowed (parse_id's are
// positive).
std::optional<std::uint64_t> whole_number(const std::string& text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// The image's chunks from a data extent on as one answer (chunk_stream.hpp's records), so a
// deploying laptop fed by the server gets them the way a relay's child does: one connection
// whose window stays open, no request between chunks. The files are opened one at a time as
// the stream reaches them; one that is gone or not the size the manifest says cuts the stream
// (the agent then asks for the rest a chunk at a time, and gets that chunk's error).
Response image_stream(ApiContext& api, Call& c) {
  const auto position = whole_number(c.param("position"));
  if (!position)
    return error_response(400, "invalid_input", "a stream's position is a data extent's index");
  auto order = api.services.images.stream_order(c.param("name"), *position);
  if (!order) return from_error(order.error());
  auto chunks = std::make_shared<std::vector<Images::StreamedChunk>>(std::move(*order));
  Response r;
  r.content_type = "application/octet-stream";
  r.parts = Response::Parts{0, chunks->size(), {}};
  for (const auto& ch : *chunks) r.parts->length += chunk_stream::kHeaderSize + ch.stored_size;
  r.parts->open = [&api, chunks](std::size_t i) -> std::optional<Response::Part> {
    const auto& ch = (*chunks)[i];
    auto opened = api.store.chunks().open_chunk(ch.digest);
    // Nor a frame larger than any agent takes (a record's length could not even say some).
    if (!opened || opened->size != ch.stored_size || ch.stored_size > kMaxChunkSize * 2)
      return std::nullopt;
    api.services.deployments.server_sent(ch.stored_size);
    const auto head =
        chunk_stream::encode({ch.digest, static_cast<std::uint32_t>(ch.stored_size), 0});
    return Response::Part{std::string(reinterpret_cast<const char*>(head.data()), head.size()),
                          Response::File{opened->fd.release(), 0, ch.stored_size}};
  };
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

// The answer to an import: parked until the job finishes (the import runs on the blocking
// pool), then its summary or its error.
Response import_answer(ApiContext& api, std::uint64_t job) {
  Images& images = api.services.images;
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

std::function<void(std::uint64_t)> wake_on_done(ApiContext& api) {
  return [notify = api.notify](std::uint64_t j) { notify("job:" + std::to_string(j)); };
}

Response upload(ApiContext& api, Call& c) {
  const std::string name = c.query("name");
  if (auto v = validate_image_name(name); !v) return from_error(v.error());
  // ?data=N: the bytes of the disk that are not holes (revivectl sends its file's allocated size).
  std::optional<std::uint64_t> data;
  if (const std::string text = c.query("data"); !text.empty()) {
    data = whole_number(text);
    if (!data) return error_response(400, "invalid_input", "?data= must be a count of bytes");
  }
  // ?chunks=content: cut where the content says (`image build --server` asks for it).
  const std::string chunks = c.query("chunks");
  if (!chunks.empty() && chunks != "content" && chunks != "fixed")
    return error_response(400, "invalid_input", "?chunks= must be \"content\" or \"fixed\"");
  if (!c.req.body_stream || !c.req.body_stream->fd)
    return error_response(400, "invalid_input", "upload the raw disk image as the request body");
  // The import reads the body while it arrives: taking the pipe tells the HTTP layer to read it
  // (a refusal leaves it, and the body need not be sent).
  auto job =
      api.services.images.start_stream_import(c.req.body_stream->fd, c.req.body_stream->length,
                                              {.name = name,
                                               .replace = c.query("replace") == "1",
                                               .content_chunks = chunks == "content",
                                               .raw = c.query("raw") == "1",
                                               .data_bytes = data,
                                               .check_space = c.query("space_check") != "0",
                                               .who = c.operator_name},
                                              wake_on_done(api));
  if (!job) return from_error(job.error());
  return import_answer(api, *job);
}

// ---- resumable uploads (the images page): begin, pieces at an offset, status, finish
Json upload_json(const UploadStatus& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"size", s.size},
          {"received", s.received},
          {"importing", s.importing}};
}

Response upload_begin(ApiContext& api, Call& c) {
  auto j = body_json(c.req);
  if (!j) return from_error(j.error());
  const Json size = j->value("size", Json());
  if (!size.is_number_unsigned())
    return error_response(400, "invalid_input", "\"size\" must be the image's size in bytes");
  auto s =
      api.services.uploads.begin(str(*j, "name"), size.get<std::uint64_t>(),
                                 j->value("replace", Json(false)) == Json(true), c.operator_name);
  if (s) return json_response(upload_json(*s), 201);
  // Too large for the store is the request's fault (413), not the server's (507).
  if (s.error().code == Errc::no_space) return error_response(413, "too_large", s.error().message);
  return from_error(s.error());
}

Response upload_piece(ApiContext& api, Call& c) {
  const auto offset = whole_number(c.query("offset"));
  if (!offset)
    return error_response(400, "invalid_input", "?offset= must be the piece's byte offset");
  auto s = api.services.uploads.append(
      c.param("id"), *offset,
      {reinterpret_cast<const std::byte*>(c.req.body.data()), c.req.body.size()});
  return s ? json_response(upload_json(*s)) : from_error(s.error());
}

// The body, if any: {"raw": bool, "space_check": bool}, push's ?raw=1 and ?space_check=0.
Result<ImportChoices> import_choices(const Request& req) {
  ImportChoices choices;
  if (req.body.empty()) return choices;
  REVIVE_ASSIGN(j, body_json(req));
  for (const char* key : {"raw", "space_check"}) {
    if (j.contains(key) && !j[key].is_boolean())
      return make_error(Errc::invalid_input, std::string("\"") + key + "\" must be true or false");
  }
  choices.raw = j.value("raw", false);
  choices.check_space = j.value("space_check", true);
  return choices;
}

Response upload_finish(ApiContext& api, Call& c) {
  auto choices = import_choices(c.req);
  if (!choices) return from_error(choices.error());
  auto job = api.services.uploads.finish(c.param("id"), *choices, wake_on_done(api));
  if (!job) return from_error(job.error());
  return import_answer(api, *job);
}

}  // namespace

void add_image_routes(HandlerTable& t, ApiContext& api) {
  t.add(RouteId::chunk, [&api](Call& c) { return chunk(api, c); });
  t.add(RouteId::images, [&api](Call&) { return reply(api.services.images.list()); });
  t.add(RouteId::image_manifest, [&api](Call& c) { return manifest(api, c); });
  t.add(RouteId::image_stream, [&api](Call& c) { return image_stream(api, c); });
  t.add(RouteId::upload_image, [&api](Call& c) { return upload(api, c); });
  t.add(RouteId::delete_image, [&api](Call& c) {
    return ok_or_error(api.services.images.remove(c.param("name"), c.operator_name));
  });
  t.add(RouteId::image_upload_begin, [&api](Call& c) { return upload_begin(api, c); });
  t.add(RouteId::image_upload_status, [&api](Call& c) {
    auto s = api.services.uploads.status(c.param("id"));
    return s ? json_response(upload_json(*s)) : from_error(s.error());
  });
  t.add(RouteId::image_upload_piece, [&api](Call& c) { return upload_piece(api, c); });
  t.add(RouteId::image_upload_finish, [&api](Call& c) { return upload_finish(api, c); });
  t.add(RouteId::image_upload_cancel,
        [&api](Call& c) { return ok_or_error(api.services.uploads.cancel(c.param("id"))); });
}

}  // namespace revive::server
