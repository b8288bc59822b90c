#pragma once
// The SQLite backend: one connection (WAL, foreign keys), the schema brought up to date on
// open, and a unit of work that is one SQLite transaction. Commits are synced one by one
// (synchronous=FULL), or in groups by a WalSync thread for a serving process.

#include <filesystem>
#include <memory>

#include "storage/storage.hpp"

namespace revive::server::sqlite {

struct StorageOptions {
  /// Commits return before they are synced; Storage::group_commit() says when they are.
  bool group_commit = false;
};

/// Opens or creates the database at `path` and runs pending migrations; io when the file
/// cannot be opened, unsupported when it was written by a newer server.
Result<std::unique_ptr<Storage>> open_storage(const std::filesystem::path& path,
                                              StorageOptions options = {});

}  // namespace revive::server::sqlite
