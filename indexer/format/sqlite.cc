#include "indexer/format/sqlite.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "indexer/base/status_macros.h"

namespace citekb {

absl::Status SqliteError(sqlite3* db, absl::string_view context) {
  const int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string message =
      absl::StrCat(context, ": ", db ? sqlite3_errmsg(db) : "no database");
  switch (code & 0xff) {
    case SQLITE_CANTOPEN:
      return absl::NotFoundError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_INTERRUPT:
      return absl::DeadlineExceededError(message);
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<Database> OpenDatabase(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) {
    return SqliteError(db.get(), absl::StrCat("cannot open ", path));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
                    nullptr);
  return db;
}

absl::Status Exec(sqlite3* db, absl::string_view sql) {
  char* error = nullptr;
  const std::string statement(sql);
  if (sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error) !=
      SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return SqliteError(db, message);
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement> Statement::Prepare(sqlite3* db,
                                             absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt,
                         nullptr) != SQLITE_OK) {
    return SqliteError(db, absl::StrCat("cannot prepare \"", sql, "\""));
  }
  return Statement(db, stmt);
}

Statement& Statement::Bind(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(),
                    static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindView(int index, absl::string_view text) {
  sqlite3_bind_text(stmt_.get(), index, text.data(),
                    static_cast<int>(text.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindPointer(int index, const void* pointer,
                                  const char* type) {
  // SQLite takes a mutable pointer; the functions reading it here do not
  // write through it.
  sqlite3_bind_pointer(stmt_.get(), index, const_cast<void*>(pointer), type,
                       nullptr);
  return *this;
}
Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  // A zero-length blob, not NULL, even for empty bytes.
  sqlite3_bind_blob64(stmt_.get(), index, bytes.empty() ? "" : bytes.data(),
                      bytes.size(), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_.get(), index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_.get(), index, value);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_.get(), index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, sqlite3_sql(stmt_.get()));
}

absl::Status Statement::Run() {
  absl::StatusOr<bool> row = Step();
  while (row.ok() && *row) row = Step();
  Reset();
  return row.status();
}

void Statement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int64_t Statement::ColumnInt(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}
double Statement::ColumnDouble(int column) const {
  return sqlite3_column_double(stmt_.get(), column);
}
absl::string_view Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(text),
                           sqlite3_column_bytes(stmt_.get(), column));
}
absl::string_view Statement::ColumnBlob(int column) const {
  const void* bytes = sqlite3_column_blob(stmt_.get(), column);
  if (bytes == nullptr) return {};
  return absl::string_view(static_cast<const char*>(bytes),
                           sqlite3_column_bytes(stmt_.get(), column));
}
bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

absl::StatusOr<Transaction> Transaction::Begin(sqlite3* db) {
  CITEKB_RETURN_IF_ERROR(Exec(db, "BEGIN"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) Exec(db_, "ROLLBACK").IgnoreError();
}

absl::Status Transaction::Commit() {
  sqlite3* db = db_;
  db_ = nullptr;
  return Exec(db, "COMMIT");
}

}  // namespace citekb
