#pragma once
// The SQLite backend: one connection (WAL, foreign keys), the schema brought up to date on
// open, and a unit of work that is one SQLite transaction. Commits are synced one by one
// (synchronous=FULL), or for a serving process in groups by a WalSync thread, its units of
// work batched: savepoints in one transaction shared with the units begun around them.

#include <filesystem>
#include <functional>
#include <memory>

#include "storage/storage.hpp"

namespace revive::server::sqlite {

/// Runs a function later, on the thread that uses the storage (a post to its io_context);
/// called from the syncing thread too.
using Later = std::function<void(std::function<void()>)>;

struct StorageOptions {
  /// Commits return before they are synced; Storage::group_commit() says when they are.
  bool group_commit = false;
  /// With group_commit: units of work begun before `later` runs share one transaction (and one
  /// commit); GroupCommit::durable() of a mark that needs the batch ends it sooner.
  Later later;
};

/// Opens or creates the database at `path` and runs pending migrations; io when the file
/// cannot be opened, unsupported when it was written by a newer server.
Result<std::unique_ptr<Storage>> open_storage(const std::filesystem::path& path,
                                              StorageOptions options = {});

}  // namespace revive::server::sqlite
