#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>

#include "deploy_feed.hpp"
#include "revive/agent/deploy.hpp"
#include "revive/agent/disk_safety.hpp"
#include "revive/agent/fit.hpp"
#include "revive/agent/transport/relay.hpp"
#include "revive/agent/transport/scheduled_chunk_source.hpp"
#include "revive/chunk_stream.hpp"
#include "revive/http_client.hpp"
#include "revive/parallel.hpp"
#include "step.hpp"

namespace revive::agent::steps {

namespace {

// The image's signed manifest, checked against the pinned server key before anything else.
Result<Manifest> fetch_manifest(const StepContext& ctx, const std::string& image) {
  ctx.progress("fetching the signed manifest of " + image, 0, 0);
  auto text = ctx.server.manifest_text(image);
  if (!text) return text.error().with_context("manifest of " + image);
  auto m = open_signed_manifest(*text, *ctx.opts.server_key);
  if (!m) return Error(m.error().code, "manifest of " + image + " refused: " + m.error().message);
  return m;
}

// Before anything is written: nothing may be using the disk (see disk_safety.hpp).
std::optional<std::string> refuse_if_in_use(const StepContext& ctx) {
  if (ctx.opts.system == nullptr) return std::nullopt;
  if (auto why = disk_in_use(*ctx.opts.system, ctx.opts.disk))
    return *why + "; nothing was written";
  return std::nullopt;
}

// Where a resumed attempt starts: its checkpoint, when it is about this very image.
struct ResumePoint {
  DoneRanges done;        // chunks written and flushed before: not fetched again
  bool only_fit = false;  // every chunk was written and verified: only fitting is left
};

ResumePoint resume_point(const StepContext& ctx, const Manifest& m) {
  ResumePoint p;
  if (!ctx.step.checkpoint) return p;
  const Json& cp = *ctx.step.checkpoint;
  if (cp.value("image_id", std::string()) != m.image_id) return p;
  p.only_fit = cp.value("stage", std::string()) == "fit";
  if (!cp.contains("done") || !cp["done"].is_array()) return p;
  std::size_t n = 0;
  for (const auto& range : cp["done"]) {
    if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
        !range[1].is_number_unsigned())
      continue;
    p.done.emplace_back(range[0].get<std::size_t>(), range[1].get<std::size_t>());
    n += range[1].get<std::size_t>() - range[0].get<std::size_t>() + 1;
  }
  ctx.log(fmt::format("  resuming: {} of {} chunks are already on disk", n, m.data_chunk_count()));
  return p;
}

bool post_checkpoint(const StepContext& ctx, Json checkpoint) {
  protocol::CheckpointReport report;
  report.attempt = ctx.step.attempt;
  report.checkpoint = std::move(checkpoint);
  return static_cast<bool>(ctx.server.checkpoint(ctx.step.id, report));
}

DeployOptions deploy_options(const StepContext& ctx, const Manifest& m, DoneRanges already_done) {
  const Json& params = ctx.step.params;
  DeployOptions o;
  o.stop = ctx.opts.stop;
  o.already_done = std::move(already_done);
  o.outage_timeout = std::chrono::seconds(params.value("outage_timeout_s", 600));
  o.zero_holes = params.value("zero_holes", true);
  o.checkpoint = [&ctx, &m](const DoneRanges& ranges) {
    Json done = Json::array();
    std::size_t n = 0;
    for (const auto& [a, b] : ranges) {
      done.push_back({a, b});
      n += b - a + 1;
    }
    if (post_checkpoint(ctx, {{"image_id", m.image_id}, {"done", done}}))
      ctx.log(fmt::format("  checkpoint: {} of {} chunks on disk", n, m.data_chunk_count()));
  };
  o.on_outage = [&ctx](bool reachable, const std::string& why) {
    ctx.log(reachable ? "  image source answers again: continuing"
                      : "  image source unreachable (" + why +
                            "): waiting for it, what is on disk is kept");
  };
  return o;
}

std::uint64_t count_of(const DoneRanges& ranges) {
  std::uint64_t n = 0;
  for (const auto& [a, b] : ranges) n += b - a + 1;
  return n;
}

// The relay for this image, unless the step says not to or it cannot listen (then the deploy
// goes on without: relaying helps the others, it is not needed for this laptop's disk).
std::unique_ptr<Relay> start_relay(const StepContext& ctx, const Manifest& m,
                                   std::shared_ptr<BlockDevice> dev, const DoneRanges& held) {
  const Json& params = ctx.step.params;
  if (!params.value("relay", true)) return nullptr;
  RelayOptions ro;
  ro.server.port = params.value("relay_port", std::uint16_t{0});
  ro.server.congestion_control = params.value("relay_congestion", ro.server.congestion_control);
  auto relay = Relay::start(m, std::move(dev), held, ro);
  if (!relay) {
    ctx.log("  not relaying to peers: " + relay.error().message);
    return nullptr;
  }
  ctx.log(fmt::format("  relaying verified chunks to peers on port {}", (*relay)->port()));
  return std::move(*relay);
}

ScheduledSourceOptions source_options(const StepContext& ctx, const Manifest& m,
                                      const std::string& image, const DoneRanges& done) {
  const Json& params = ctx.step.params;
  ScheduledSourceOptions so;
  so.server = ctx.opts.server;
  so.max_rate = ctx.opts.max_fetch_rate;
  so.stop = ctx.opts.stop;
  so.peer_stall_timeout = std::chrono::milliseconds(params.value("peer_stall_ms", 2000));
  so.replan_wait = std::chrono::milliseconds(params.value("replan_wait_ms", 5000));
  // The order the pipeline fetches in (its items are the data extents), so sources can stream:
  // each hop of a chain then lags its parent by about one chunk-time, where four workers'
  // requests lagged four or more (bench/workshop.sh N=8: 1.05x T1 against 1.11x;
  // docs/scheduler.md).
  if (!params.value("peer_stream", true)) return so;
  for (const std::size_t i : m.data_extents()) so.order.push_back(*m.extents[i].sha256);
  so.done.assign(so.order.size(), false);
  for (const auto& [first, last] : done) {
    for (std::size_t k = first; k <= last && k < so.done.size(); ++k) so.done[k] = true;
  }
  // The server streams too, unless the step says not to: then the laptop it feeds is fed the
  // way every relay's child is.
  if (params.value("server_stream", true)) {
    so.server_stream =
        http::trim_base_url(ctx.opts.server) + chunk_stream::image_stream_base(image);
    so.server_headers = ctx.server.credentials();
  }
  return so;
}

void record_sources(const ScheduledChunkSource& source, const Relay* relay, Json& result) {
  const SourceBytes b = source.bytes_by_source();
  Json by_peer = Json::object();
  for (const auto& [peer, bytes] : b.by_peer) by_peer[std::to_string(peer)] = bytes;
  result["sources"] = {{"server_bytes", b.server},
                       {"peer_bytes", b.peers},
                       {"by_peer", by_peer},
                       {"replans", source.replans()},
                       {"source_failures", source.failures()}};
  if (relay != nullptr)
    result["relay"] = {{"port", relay->port()}, {"bytes_served", relay->bytes_served()}};
}

// Writes the image's chunks from the sources the server assigns, relaying them on, then reads
// a seeded sample back. The failure, if any; the figures go into `result` either way.
std::optional<std::string> write_image(const StepContext& ctx, const Manifest& m,
                                       const std::shared_ptr<BlockDevice>& dev, DeployOptions o,
                                       const std::string& image, Relay* relay, Json& result) {
  ScheduledChunkSource source(source_options(ctx, m, image, o.already_done));
  WriteMeter meter;
  o.write_meter = &meter;
  DeployFeed feed(ctx, m, image, source, relay, meter, count_of(o.already_done));
  // The first report before any chunk: the server's answer says where to fetch from.
  feed.tick(0, m.data_bytes);
  o.after_put = [&feed, relay](std::size_t item, std::span<const std::byte> frame) {
    feed.chunk_written();
    if (relay != nullptr) relay->held(item, frame);
  };
  o.progress = [&feed](std::uint64_t done, std::uint64_t total) {
    feed.tick(done, total, done >= total);
  };
  const auto started = std::chrono::steady_clock::now();
  auto rep = deploy_image(m, source, *dev, o);
  record_sources(source, relay, result);
  result["timeline"] = feed.timeline();
  if (!rep) return rep.error().message;
  result["write_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::uint64_t seed = std::random_device{}();
  auto bad = verify_sample(m, *dev, 16, seed);
  result.update(
      {{"chunks_written", rep->chunks_written},
       {"bytes_written", rep->bytes_written},
       {"bytes_fetched", rep->bytes_fetched},
       {"chunk_retries", rep->chunk_retries},
       {"chunks_skipped", rep->chunks_skipped},
       {"outages", rep->outages},
       {"holes_zeroed_bytes", rep->holes_zeroed_bytes},
       {"verify", {{"samples", 16}, {"seed", seed}, {"bad", bad ? Json(*bad) : Json::array()}}}});
  if (!bad) return "read-back verification failed: " + bad.error().message;
  if (!bad->empty())
    return "read-back verification found " + std::to_string(bad->size()) +
           " bad chunks: " + (*bad)[0];
  return std::nullopt;
}

// After the step the relay goes on serving, held by the runner, until the server releases it.
void keep_relaying(const StepContext& ctx, std::unique_ptr<Relay> relay) {
  if (!relay || ctx.relay == nullptr) return;
  ServerApi* server = &ctx.server;
  relay->linger([server](const protocol::RelayReport& r) { return server->relay(r); });
  *ctx.relay = std::move(relay);
}

// Fits the written image to the disk: backup GPT to the end, last partition and its
// filesystem grown.
Outcome fit_image(const StepContext& ctx, BlockDevice& dev, const Manifest& m,
                  const std::string& image, Json result) {
  if (!ctx.step.params.value("fit", true) || ctx.opts.disk_exec == nullptr)
    return succeeded(result);
  if (ctx.opts.simulate && ::geteuid() != 0) {
    // Growing a filesystem needs a loop device, which needs root; the live agent always is.
    result["fit"] = {
        {"skipped", "simulation without root: the partition and filesystem were not grown"}};
    ctx.log(
        "  not fitting the image to the disk: simulation without root (the live agent runs as "
        "root)");
    return succeeded(result);
  }
  // From here on the disk no longer matches the image byte for byte (GPT, grown filesystem).
  (void)post_checkpoint(ctx, {{"image_id", m.image_id}, {"stage", "fit"}});
  ctx.progress("fitting " + image + " to the disk", 0, 0);
  auto fit = fit_to_disk(ctx.opts.disk, dev, *ctx.opts.disk_exec);
  if (!fit) return failed("fitting the image to the disk: " + fit.error().message, result);
  result["fit"] = *fit;
  if (fit->value("grown", false)) {
    ctx.log(fmt::format(
        "  partition {} grown from {} to {} MiB; filesystem {} {}", (*fit)["partition"].get<int>(),
        (*fit)["from_bytes"].get<std::uint64_t>() >> 20,
        (*fit)["to_bytes"].get<std::uint64_t>() >> 20, (*fit)["filesystem"].get<std::string>(),
        fit->value("fs_grown", false) ? "grown" : "kept"));
  }
  return succeeded(result);
}

}  // namespace

// The deploy step: the signed image written to the disk (resuming from this attempt's
// checkpoint), verified by a sampled read-back, then fitted to the disk.
Outcome run_deploy_step(const StepContext& ctx) {
  const Json& params = ctx.step.params;
  if (!params.contains("image") || !params["image"].is_string()) {
    return failed(
        "no image assigned: give the batch an image or the deploy step an \"image\" parameter");
  }
  const std::string image = params["image"];
  if (!ctx.opts.server_key)
    return failed(
        "no pinned server key: refusing to write an image whose signature cannot be "
        "checked");
  if (ctx.opts.disk.empty()) return failed("no disk to deploy to");
  if (auto why = ctx.external(ctx.opts.disk)) return failed(*why);
  auto m = fetch_manifest(ctx, image);
  if (!m) return failed(m.error().message);
  if (auto why = refuse_if_in_use(ctx)) return failed(*why);
  // Direct I/O skips the page cache copy and its writeback (measured in bench/deploy_bench.sh).
  auto opened = open_block_device(ctx.opts.disk,
                                  {.direct = params.value("direct_io", true), .exclusive = true});
  if (!opened) return failed(opened.error().message);
  // Shared with the relay, which reads chunks back for peers after this step.
  std::shared_ptr<BlockDevice> dev = std::move(*opened);
  ResumePoint resume = resume_point(ctx, *m);
  Json result = {{"image", image}, {"image_id", m->image_id}};
  std::unique_ptr<Relay> relay;
  if (resume.only_fit) {
    ctx.log("  resuming: the image was written and verified before; fitting it to the disk again");
  } else {
    relay = start_relay(ctx, *m, dev, resume.done);
    DeployOptions o = deploy_options(ctx, *m, std::move(resume.done));
    if (auto why = write_image(ctx, *m, dev, std::move(o), image, relay.get(), result))
      return failed(*why, result);
  }
  Outcome out = fit_image(ctx, *dev, *m, image, std::move(result));
  if (out.ok) keep_relaying(ctx, std::move(relay));
  return out;
}

}  // namespace revive::agent::steps
