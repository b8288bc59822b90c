#pragma once
// The SQLite backend: one connection (WAL, synchronous=FULL, foreign keys), the schema brought
// up to date on open, and a unit of work that is one SQLite transaction.

#include <filesystem>
#include <memory>

#include "storage/storage.hpp"

namespace revive::server::sqlite {

/// Opens or creates the database at `path` and runs pending migrations; io when the file
/// cannot be opened, unsupported when it was written by a newer server.
Result<std::unique_ptr<Storage>> open_storage(const std::filesystem::path& path);

}  // namespace revive::server::sqlite
