#include "idp/backend.h"

#include <fmt/format.h>

#include "idp/demo_backend.h"
#include "idp/sqlite_backend.h"

namespace kisee::idp {

Result<std::unique_ptr<IdentityBackend>> CreateBackend(const BackendContext& context) {
  const std::string& name = context.settings.backend.class_name;
  if (name == "demo") {
    KISEE_ASSIGN_OR_RETURN(auto backend, DemoBackend::Create(context));
    return std::unique_ptr<IdentityBackend>(std::move(backend));
  }
  if (name == "sqlite") {
    KISEE_ASSIGN_OR_RETURN(auto backend, SqliteBackend::Create(context));
    return std::unique_ptr<IdentityBackend>(std::move(backend));
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   fmt::format("identity_backend.class: unknown backend \"{}\" (built in: demo, "
                               "sqlite, kisee.providers.demo.DemoBackend)",
                               name));
}

}  // namespace kisee::idp
