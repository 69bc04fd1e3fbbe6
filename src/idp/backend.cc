#include "idp/backend.h"

#include <fmt/format.h>

#include "idp/demo_backend.h"
#include "idp/module.h"
#include "idp/plugin_backend.h"
#include "idp/postgresql_backend.h"
#include "idp/sql_backend.h"
#include "idp/sqlite_backend.h"

namespace kisee::idp {
namespace {

template <typename T>
Result<std::unique_ptr<IdentityBackend>> Upcast(Result<std::unique_ptr<T>> backend) {
  if (!backend) {
    return std::unexpected(backend.error());
  }
  return std::unique_ptr<IdentityBackend>(std::move(*backend));
}

}  // namespace

Result<std::unique_ptr<IdentityBackend>> CreateBackend(const BackendContext& context) {
  const std::string& name = context.settings.backend.class_name;
  Result<std::unique_ptr<IdentityBackend>> backend =
      MakeError(ErrorCode::kInvalidArgument, "unreachable");
  if (name == "demo") {
    backend = Upcast(DemoBackend::Create(context));
  } else if (name == "sqlite") {
    backend = Upcast(SqliteBackend::Create(context));
  } else if (name == "postgresql") {
    backend = Upcast(PostgresqlBackend::Create(context));
  } else if (name == "sql") {
    backend = Upcast(SqlBackend::Create(context));
  } else if (name == "ldap") {
    auto module = LoadModule("ldap");
    if (!module) {
      return std::unexpected(module.error());
    }
    if ((*module)->create_backend == nullptr) {
      return MakeError(ErrorCode::kFailedPrecondition, "module kisee-ldap has no backend");
    }
    backend = (*module)->create_backend(context);
  } else if (name.starts_with(kPluginPrefix)) {
    backend = CreatePluginBackend(context, name.substr(kPluginPrefix.size()));
  } else {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("identity_backend.class: unknown backend \"{}\" (built in: demo, "
                                 "sqlite, postgresql, sql, ldap, "
                                 "kisee.providers.demo.DemoBackend; or plugin:/path/to/lib.so)",
                                 name));
  }
  return backend;
}

}  // namespace kisee::idp
