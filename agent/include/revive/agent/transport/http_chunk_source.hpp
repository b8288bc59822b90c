#pragma once
// The server as a chunk source: GET {server}/chunks/{sha256} over HTTP/1.1 keep-alive.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "revive/chunk_pipeline.hpp"

namespace revive::agent {

/// GET {server}/chunks/{sha256} with libcurl, one keep-alive connection per calling thread;
/// only a 200 with the announced length counts. A transport error, a 5xx or a 429 is Errc::io
/// (unreachable: wait and ask again), a 404 not_found, any other answer corrupt.
/// `max_rate` > 0 caps each connection's download rate in bytes/s (slow workshop links).
/// `arrived`, if given, counts body bytes as they arrive (complete or not): the link's rate.
std::unique_ptr<ChunkSource> make_http_chunk_source(const std::string& server,
                                                    std::uint64_t max_rate = 0,
                                                    std::atomic<std::uint64_t>* arrived = nullptr);

}  // namespace revive::agent
