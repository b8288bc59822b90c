#pragma once
// The SQLite schema, as an append-only list of migrations (version i -> i+1). A shipped
// migration is never edited: an existing database has run it already. Add a new entry instead.

#include "revive/error.hpp"
#include "storage/sqlite/database.hpp"

namespace revive::server::sqlite {

/// How many migrations this server knows (the newest schema version).
int latest_schema_version();

/// Brings the database to the newest schema, each migration in its own transaction.
/// unsupported when the database is newer than this server; io on a storage failure.
Result<void> migrate(Database& db);

}  // namespace revive::server::sqlite
