// Small RAII layer over the SQLite C API, shared by the index writer and the
// read-only store. Statements are prepared once and reused; every value is
// bound as a parameter, never spliced into SQL.
//
//   CITEKB_ASSIGN_OR_RETURN(
//       Statement insert, Statement::Prepare(db, "INSERT INTO t VALUES(?,?)"));
//   insert.Bind(1, "text").Bind(2, int64_t{7});
//   CITEKB_RETURN_IF_ERROR(insert.Run());
//
// A Database or Statement is used by one thread at a time.

#ifndef CITEKB_INDEXER_FORMAT_SQLITE_H_
#define CITEKB_INDEXER_FORMAT_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "indexer/base/status_macros.h"

namespace citekb {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Database = std::unique_ptr<sqlite3, SqliteCloser>;

// Opens `path` with `flags` (SQLITE_OPEN_*). Extension loading stays off.
absl::StatusOr<Database> OpenDatabase(const std::string& path, int flags);

// Runs SQL without results (DDL, PRAGMA, BEGIN/COMMIT).
absl::Status Exec(sqlite3* db, absl::string_view sql);

// The last error on `db` as a status with `context` in front.
absl::Status SqliteError(sqlite3* db, absl::string_view context);

class Statement {
 public:
  Statement() = default;  // Empty until assigned from Prepare().
  static absl::StatusOr<Statement> Prepare(sqlite3* db, absl::string_view sql);

  // Bind by 1-based index; the text is copied (SQLITE_TRANSIENT).
  Statement& Bind(int index, absl::string_view text);
  Statement& Bind(int index, const char* text) {
    return Bind(index, absl::string_view(text));
  }
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, absl::string_view(text));
  }
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, int64_t{value}); }
  Statement& Bind(int index, double value);
  // Binds text without copying it: `text` must stay valid until the next
  // Run(), Step() to completion or Reset() (which clear the bindings). For
  // bulk inserts of text that outlives the statement's run.
  Statement& BindView(int index, absl::string_view text);
  // Binds bytes as a BLOB (copied).
  Statement& BindBlob(int index, absl::string_view bytes);
  Statement& BindNull(int index);
  // Binds a C++ object that SQL sees as NULL and only an application
  // function can read, by sqlite3_value_pointer with the same `type`
  // (SQLite's pointer-passing interface). `pointer` must stay valid until
  // the next Reset() or rebinding.
  Statement& BindPointer(int index, const void* pointer, const char* type);

  // Steps once: true with a row, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion (for statements without rows) and resets.
  absl::Status Run();
  // Clears bindings and rewinds, ready to be bound again.
  void Reset();

  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  absl::string_view ColumnText(int column) const;
  // A BLOB column's bytes; valid until the next Step or Reset.
  absl::string_view ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const;

  sqlite3_stmt* get() const { return stmt_.get(); }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  std::unique_ptr<sqlite3_stmt, SqliteFinalizer> stmt_;
};

// Rolls back unless Commit() was called.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(sqlite3* db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) {
    other.db_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  absl::Status Commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace citekb

#endif  // CITEKB_INDEXER_FORMAT_SQLITE_H_
