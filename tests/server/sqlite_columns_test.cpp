// The SQLite layer's row helpers (storage/sqlite/columns.hpp) on a real database file.
#include <gtest/gtest.h>

#include "storage/sqlite/columns.hpp"
#include "storage/sqlite/database.hpp"
#include "temp_dir.hpp"

namespace revive::server::sqlite {
namespace {

struct SqliteColumns : ::testing::Test {
  void SetUp() override {
    auto opened = Database::open(dir.path() / "columns.db");
    ASSERT_TRUE(opened) << opened.error().message;
    db.emplace(std::move(*opened));
    ASSERT_TRUE(
        db->exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                 "INSERT INTO t(id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');"));
  }
  test::TempDir dir;
  std::optional<Database> db;
};

std::string name_of(const Statement& q) { return q.text(0); }

TEST_F(SqliteColumns, OneRowReadsTheFirstRowOnly) {
  auto q = db->prepare("SELECT name FROM t WHERE id >= ? ORDER BY id");
  ASSERT_TRUE(q);
  auto row = one_row(q->bind(2), name_of);
  ASSERT_TRUE(row) << row.error().message;
  EXPECT_EQ(*row, std::optional<std::string>("two"));
}

TEST_F(SqliteColumns, OneRowIsNulloptWhenNothingMatches) {
  auto q = db->prepare("SELECT name FROM t WHERE id = ?");
  ASSERT_TRUE(q);
  auto row = one_row(q->bind(42), name_of);
  ASSERT_TRUE(row) << row.error().message;
  EXPECT_EQ(*row, std::nullopt);
}

TEST_F(SqliteColumns, OneRowReturnsTheStepError) {
  // abs() of the smallest integer overflows while stepping, not while preparing.
  auto q = db->prepare("SELECT abs(-9223372036854775807 - 1)");
  ASSERT_TRUE(q);
  auto row = one_row(*q, [](const Statement& s) { return s.int64(0); });
  ASSERT_FALSE(row);
  EXPECT_NE(row.error().message.find("overflow"), std::string::npos) << row.error().message;
}

TEST_F(SqliteColumns, AllRowsReadsEveryRowInOrder) {
  auto q = db->prepare("SELECT name FROM t ORDER BY id");
  ASSERT_TRUE(q);
  auto rows = all_rows(*q, name_of);
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(*rows, (std::vector<std::string>{"one", "two", "three"}));
}

}  // namespace
}  // namespace revive::server::sqlite
